"""The text layer of :func:`jtls.data.read_csv`: from bytes to numbered cells and numbers.

Decoding (byte-order marks, UTF-8/16/32, cp1252/Latin-1), line ends (LF,
CRLF, CR), header cells with units ("T (mK)"), cells and the delimiter, the
number syntax (decimal point or comma, no digit grouping, no NaN/inf) and
error messages naming file, line and column.  The names are also available
from :mod:`jtls.data.csvio`.
"""
from __future__ import annotations

import csv
import math
import re

_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
#: A number written with a decimal comma (a digit on both sides of the comma).
_COMMA_NUM = re.compile(r"^[+-]?\d*\d,\d+([eE][+-]?\d+)?$")
_NONFINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity",
              "na", "n/a", "null", "none"}


#: Byte-order marks, longest first (UTF-32 LE starts with the UTF-16 LE mark).
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"),
         (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _line_col(raw: bytes, pos: int):
    """1-based line and column (in bytes) of byte offset ``pos``."""
    head = raw[:pos].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return head.count(b"\n") + 1, pos - max(head.rfind(b"\n"), -1)


def _decode(path, raw: bytes, encoding):
    """Text of the file and a note on the encoding used (None for plain UTF-8).

    ``encoding=None`` (default): a byte-order mark decides (UTF-8, UTF-16, UTF-32);
    else UTF-8; else UTF-16 when every second byte is NUL (no BOM); else
    Windows cp1252, else Latin-1 (which decodes any byte).  An explicit
    ``encoding`` is used as given (a leading BOM is dropped).
    """
    if encoding is not None:
        try:
            text = raw.decode(encoding)
        except LookupError:
            raise ValueError(f"read_csv: unknown encoding {encoding!r} (e.g. 'utf-8', "
                             f"'latin-1', 'cp1252', 'utf-16')") from None
        except UnicodeDecodeError as exc:
            ln, col = _line_col(raw, exc.start)
            raise ValueError(
                f"{path}, line {ln}, column {col} (byte): byte {raw[exc.start]:#04x} is not valid "
                f"{encoding} text; pass the file's encoding (e.g. encoding='latin-1' or "
                f"'cp1252' for Western European files), or leave encoding unset to detect it"
            ) from None
        return text.lstrip("\ufeff"), None
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ValueError(f"{path}: this is a spreadsheet (Excel .xlsx/.xls or another zip/OLE "
                         f"file), not CSV text; save it as CSV (comma or semicolon separated) "
                         f"and read that file")
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(enc).lstrip("\ufeff"), (None if enc == "utf-8-sig" else
                                                             f"encoding {enc} (byte-order mark)")
            except UnicodeDecodeError as exc:
                ln, col = _line_col(raw, exc.start)
                raise ValueError(f"{path}: starts with a {enc} byte-order mark but byte "
                                 f"{exc.start} is not valid {enc}; pass encoding=") from None
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    if len(raw) >= 4 and len(raw) % 2 == 0:
        even, odd = raw[0::2], raw[1::2]
        for zeros, other, enc in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
            if zeros.count(0) > 0.9 * len(zeros) and other.count(0) == 0:
                try:
                    return raw.decode(enc), f"encoding {enc} detected (no byte-order mark)"
                except UnicodeDecodeError:
                    break
    if b"\x00" in raw:
        ln, col = _line_col(raw, raw.index(b"\x00"))
        raise ValueError(f"{path}, line {ln}, column {col} (byte): NUL byte in a file that is "
                         f"not UTF-16/32 text -- a binary file? Give a CSV text file, or pass "
                         f"its encoding=")
    try:
        return raw.decode("cp1252"), ("not UTF-8: decoded as cp1252 (Windows Latin-1); pass "
                                      "encoding= if that is wrong")
    except UnicodeDecodeError:
        return raw.decode("latin-1"), ("not UTF-8: decoded as Latin-1 (ISO 8859-1); pass "
                                       "encoding= if that is wrong")


def _split_lines(text: str):
    """Lines split at CRLF, LF and CR alone (old Mac files), numbered from 1."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [(i + 1, t) for i, t in enumerate(text.split("\n"))]


def _split_header(cell: str):
    """'T(K)' -> ('t', 'K'); 'Temperatur (mK)' -> ('temperatur', 'mK'); 'k/T' -> ('k/t', None)."""
    cell = cell.strip()
    m = re.match(r"^(.*?)\s*[\(\[]\s*([^\)\]]*?)\s*[\)\]]\s*$", cell)
    if m and m.group(1):
        return m.group(1).strip().lower(), m.group(2)
    m = re.match(r"^(t|temp|temperature)_(k|mk|uk)$", cell, re.I)
    if m:
        # 'T_mk' -> mK, but 'T_MK' stays 'MK' (megakelvin: refused by the unit check, not read as mK)
        u = m.group(2)
        return m.group(1).lower(), {"k": "K", "mk": "mK", "uk": "uK"}.get(u, u)
    return cell.lower(), None


class _Src:
    """File name + line for error messages."""

    def __init__(self, path):
        self.path = str(path)

    def err(self, line, msg, col=None, header=None):
        where = f"{self.path}, line {line}"
        if col is not None:
            name = f" ({header[col]!r})" if header and col < len(header) else ""
            where += f", column {col + 1}{name}"
        return ValueError(f"{where}: {msg}")


def _cells(text, delim):
    if delim is None:
        return text.split()
    return next(csv.reader([text], delimiter=delim, skipinitialspace=True))


#: Digit grouping such as 1,234,567 (not a number this reader accepts).
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _is_num(cell, decimal):
    c = cell.strip()
    if decimal == "," or (decimal == ".q" and "," in c):
        c = c.replace(",", ".") if "." not in c else "x"
    return bool(_NUM.match(c))


def _to_float(cell, decimal, src, line, col, header):
    """Value of one cell.  decimal: '.', ',' or '.q' ('.' plus quoted "1,5" cells
    of a comma-separated file, which hold a decimal comma)."""
    c = cell.strip()
    if c == "":
        raise src.err(line, "empty cell (missing value)", col, header)
    if c.lower() in _NONFINITE:
        raise src.err(line, f"non-finite value {c!r} (NaN/inf/missing are not allowed)", col, header)
    if "," in c and _GROUPED.match(c) and not _COMMA_NUM.match(c):
        raise src.err(line, f"cell {c!r} uses digit grouping, which is not supported; write the "
                      f"number without the separators (e.g. {c.replace(',', '')!r})", col, header)
    if decimal == "," or (decimal == ".q" and "," in c):
        if "." in c:
            raise src.err(line, f"cell {c!r} contains '.' but the decimal separator is ','", col, header)
        c = c.replace(",", ".")
    elif "," in c and _COMMA_NUM.match(c):
        raise src.err(line, f"cell {c!r} has a decimal comma but decimal='.' was given; pass "
                      f"decimal=',' (or leave decimal unset to detect it)", col, header)
    if not _NUM.match(c):
        raise src.err(line, f"non-numeric cell {cell.strip()!r}", col, header)
    v = float(c)
    if not math.isfinite(v):
        raise src.err(line, f"value {cell.strip()!r} overflows a double (largest about 1.8e308)", col, header)
    if v == 0.0 and any(d in "123456789" for d in c.lower().split("e")[0]):
        raise src.err(line, f"value {cell.strip()!r} underflows to 0 in a double (smallest about 5e-324); "
                      "rescale the column", col, header)
    return v


def _detect_delimiter(sample_lines):
    joined = "\n".join(sample_lines)
    for d in (";", "\t", ","):
        if d in joined:
            return d
    return None
