"""read_csv on files as other programs write them (issue 12): CR-only line ends, Latin-1 /
cp1252 / UTF-16 text with German headers, a directory given as FILE, quoted decimal
commas in a comma-separated file.  Every failure names the file and the fix."""
import numpy as np
import pytest

from jtls import data as D

GERMAN = "Messung Probe A\nTemperatur (mK);Wärmeleitfähigkeit (W/m/K)\n100;1,5e-4\n200;3,25e-4\n400;6,0e-4\n"


def _write(tmp_path, name, text=None, raw=None):
    p = tmp_path / name
    p.write_bytes(raw if raw is not None else text.encode("utf-8"))
    return p


def _check_german(ds):
    np.testing.assert_array_equal(ds.T, [0.1, 0.2, 0.4])
    np.testing.assert_array_equal(ds.value, [1.5e-4, 3.25e-4, 6.0e-4])
    assert ds.quantity == "thermal_conductivity"
    assert list(ds.line) == [3, 4, 5]


def test_cr_only_line_ends(tmp_path):
    p = _write(tmp_path, "mac.csv", "T,value\r0.1,1.0\r0.2,2.0\r0.3,3.0\r")
    ds = D.read_csv(p)
    np.testing.assert_array_equal(ds.T, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(ds.value, [1.0, 2.0, 3.0])
    assert list(ds.line) == [2, 3, 4]
    # errors point at the right line of a CR-only file
    bad = _write(tmp_path, "mac_bad.csv", "T,value\r0.1,1.0\r0.2,x\r")
    with pytest.raises(ValueError, match=r"mac_bad\.csv, line 3, column 2 \('value'\): non-numeric cell 'x'"):
        D.read_csv(bad)


@pytest.mark.parametrize("enc", ["latin-1", "cp1252"])
def test_latin1_german_headers_detected(tmp_path, enc):
    p = _write(tmp_path, "probe.csv", raw=GERMAN.encode(enc))
    ds = D.read_csv(p)
    _check_german(ds)
    assert any("not UTF-8" in n for n in ds.notes)
    # explicit encoding: same result, no guess noted
    ds2 = D.read_csv(p, encoding="latin-1")
    _check_german(ds2)
    assert not any("not UTF-8" in n for n in ds2.notes)


@pytest.mark.parametrize("enc,bom", [("utf-16", True), ("utf-16-le", False), ("utf-16-be", False),
                                     ("utf-8-sig", True)])
def test_utf16_and_bom_files(tmp_path, enc, bom):
    raw = GERMAN.replace("\n", "\r\n").encode(enc)
    assert raw.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")) == bom
    ds = D.read_csv(_write(tmp_path, "probe16.csv", raw=raw))
    _check_german(ds)
    assert not ds.provenance.startswith("\ufeff")


def test_wrong_explicit_encoding_names_file_line_and_fix(tmp_path):
    p = _write(tmp_path, "probe.csv", raw=GERMAN.encode("latin-1"))
    with pytest.raises(ValueError, match=r"probe\.csv, line 2, column 18 \(byte\): byte 0xe4 is not "
                                         r"valid utf-8 text; pass the file's encoding \(e\.g\. encoding='latin-1'"):
        D.read_csv(p, encoding="utf-8")
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        D.read_csv(p, encoding="klingon")


def test_directory_as_file(tmp_path):
    _write(tmp_path, "a.csv", "T,value\n0.1,1\n0.2,2\n")
    with pytest.raises(ValueError, match=r"is a directory, not a data file; give the path of one "
                                         r"CSV file in it \(it holds a\.csv\)"):
        D.read_csv(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such data file"):
        D.read_csv(tmp_path / "missing.csv")


def test_quoted_decimal_commas_in_comma_separated_file(tmp_path):
    p = _write(tmp_path, "q.csv", 'Probe, "Messung 1,386"\nT,value,sigma\n0.1,"1,5","0,25"\n'
               '0.2,"2,75",0.5\n"0,3",4,"1,0"\n')
    ds = D.read_csv(p)
    np.testing.assert_array_equal(ds.T, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(ds.value, [1.5, 2.75, 4.0])
    np.testing.assert_array_equal(ds.sigma, [0.25, 0.5, 1.0])
    assert any("decimal comma" in n for n in ds.notes)
    assert "1,386" in ds.provenance
    # explicit decimal='.' contradicts the cells: the message says so and names the fix
    with pytest.raises(ValueError, match=r"q\.csv, line 3, column 2 \('value'\): cell '1,5' has a "
                                         r"decimal comma but decimal='\.' was given; pass decimal=','"):
        D.read_csv(p, decimal=".", skip_title=1)


def test_quoted_commas_ambiguous_or_grouped(tmp_path):
    amb = _write(tmp_path, "amb.csv", 'T,value\n0.1,"1,500"\n0.2,"2,250"\n')
    with pytest.raises(ValueError, match=r"amb\.csv, line 2: quoted cell '1,500' is ambiguous: "
                                         r"decimal comma \(1\.500\) or digit grouping \(1500\)\?"):
        D.read_csv(amb)
    ds = D.read_csv(amb, decimal=",")
    np.testing.assert_array_equal(ds.value, [1.5, 2.25])
    grp = _write(tmp_path, "grp.csv", 'T,value\n0.1,"1,234,567"\n0.2,5\n')
    with pytest.raises(ValueError, match=r"grp\.csv, line 2, column 2 \('value'\): cell '1,234,567' "
                                         r"uses digit grouping.*'1234567'"):
        D.read_csv(grp)


def test_spreadsheet_and_binary_files_are_named(tmp_path):
    xlsx = _write(tmp_path, "probe.xlsx", raw=b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)))
    with pytest.raises(ValueError, match=r"probe\.xlsx: this is a spreadsheet .* save it as CSV"):
        D.read_csv(xlsx)
    binary = _write(tmp_path, "probe.bin", raw=b"T,value\n0.1,\x00\xff\x13\n")
    with pytest.raises(ValueError, match=r"probe\.bin, line 2, column 5 \(byte\): NUL byte"):
        D.read_csv(binary)


def test_values_beyond_double_range_name_line_and_column(tmp_path):
    """1e400 is inf and 1e-400 is 0 once read as a double: either would reach the fit as a
    non-finite or zero value far from its file line; the reader names the cell."""
    p = _write(tmp_path, "big.csv", "T,value\n0.1,2\n0.2,1e400\n0.3,4\n")
    with pytest.raises(ValueError, match=r"big\.csv, line 3, column 2 \('value'\): value '1e400' overflows"):
        D.read_csv(p)
    p = _write(tmp_path, "small.csv", "T,value\n0.1,2\n0.2,3\n0.3,1.5e-400\n")
    with pytest.raises(ValueError, match=r"small\.csv, line 4, column 2 \('value'\): value '1.5e-400' underflows"):
        D.read_csv(p)
    ok = D.read_csv(_write(tmp_path, "fine.csv", "T,value\n0.1,0.0e5\n0.2,1e-320\n0.3,1e300\n"))
    assert list(ok.value) == [0.0, 1e-320, 1e300]
