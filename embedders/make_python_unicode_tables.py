#!/usr/bin/python3
"""Writes python_unicode_tables.inc: what the BERT tokenizer needs from
Python's unicodedata (Unicode 14.0 on CPython 3.11) that utf8proc lacks or
answers differently.

The reference BERT tokenizer is Python code, so its character classes,
lower-casing and NFD are those of the Python that ran it. semdb reads
character properties from utf8proc (Unicode 15 in Debian 12's 2.8) and
corrects them with two kinds of tables made here:

  * overrides: code points whose category, simple lower-case mapping,
    canonical combining class or canonical decomposition differ between
    utf8proc and Python (mostly characters assigned after Unicode 14, which
    Python treats as unassigned);
  * the two character classes of str.lower()'s Final_Sigma rule, which
    utf8proc does not expose: case-ignorable characters, and cased
    characters that are not case-ignorable. They are measured on
    str.lower() itself, so they are Python's by construction.

Run from the repository root: embedders/make_python_unicode_tables.py
"""
import ctypes
import os
import sys
import unicodedata

CATEGORIES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd",
              "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm",
              "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]
UTF8PROC_DECOMPOSE = 1 << 4
MAX_DECOMPOSITION = 4
CAPITAL_DOTTED_I = 0x130  # the one multi-character lower-case mapping


class Property(ctypes.Structure):
    _fields_ = [("category", ctypes.c_int16),
                ("combining_class", ctypes.c_int16)]


def load_utf8proc():
    lib = ctypes.CDLL("libutf8proc.so.2")
    lib.utf8proc_category.restype = ctypes.c_int
    lib.utf8proc_tolower.restype = ctypes.c_int32
    lib.utf8proc_get_property.restype = ctypes.POINTER(Property)
    lib.utf8proc_unicode_version.restype = ctypes.c_char_p
    lib.utf8proc_decompose_char.restype = ctypes.c_ssize_t
    lib.utf8proc_decompose_char.argtypes = [
        ctypes.c_int32, ctypes.POINTER(ctypes.c_int32), ctypes.c_ssize_t,
        ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    return lib


def code_points():
    for cp in range(0x110000):
        if not 0xD800 <= cp <= 0xDFFF:
            yield cp


def utf8proc_facts(lib, cp):
    buf = (ctypes.c_int32 * 8)()
    bound = ctypes.c_int(0)
    n = lib.utf8proc_decompose_char(cp, buf, 8, UTF8PROC_DECOMPOSE,
                                    ctypes.byref(bound))
    assert 0 < n <= 8, (hex(cp), n)
    return (CATEGORIES[lib.utf8proc_category(cp)],
            lib.utf8proc_tolower(cp),
            lib.utf8proc_get_property(cp).contents.combining_class,
            tuple(buf[i] for i in range(n)))


def python_facts(cp):
    ch = chr(cp)
    lower = ch.lower()
    if cp == CAPITAL_DOTTED_I:
        lower = "i"  # the tokenizer appends the U+0307 of "i\u0307"
    assert len(lower) == 1, (hex(cp), lower)
    nfd = tuple(ord(c) for c in unicodedata.normalize("NFD", ch))
    return (unicodedata.category(ch), ord(lower), unicodedata.combining(ch),
            nfd)


def sigma_class(cp):
    """'I' case-ignorable, 'C' cased and not case-ignorable, '' other.

    CPython's Final_Sigma test skips case-ignorable characters first and only
    then asks whether a character is cased, so these three classes are all it
    can observe. Probed on str.lower():
      "A\u03a3" + c:       final sigma unless c is cased and not ignorable;
      "A\u03a3" + c + "B": final sigma unless c is ignorable or cased.
    """
    ch = chr(cp)
    if cp == 0x3A3:
        return "C"
    not_ignorable_cased = ("A\u03a3" + ch).lower()[1] == "\u03c3"
    ignorable_or_cased = ("A\u03a3" + ch + "B").lower()[1] == "\u03c3"
    if not_ignorable_cased:
        return "C"
    return "I" if ignorable_or_cased else ""


def ranges(cps):
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def main():
    lib = load_utf8proc()
    overrides = []  # [first, last, category, ccc, lower or 0, nfd or ()]
    ignorable, cased = [], []
    for cp in code_points():
        py = python_facts(cp)
        if py != utf8proc_facts(lib, cp):
            cat, lower, ccc, nfd = py
            lower = 0 if lower == cp else lower
            nfd = () if nfd == (cp,) else nfd
            assert len(nfd) <= MAX_DECOMPOSITION, hex(cp)
            last = overrides[-1] if overrides else None
            if (last and last[1] == cp - 1 and last[2:4] == [cat, ccc] and
                    lower == 0 and nfd == () and last[4] == 0 and
                    last[5] == ()):
                last[1] = cp
            else:
                overrides.append([cp, cp, cat, ccc, lower, nfd])
        cls = sigma_class(cp)
        if cls == "I":
            ignorable.append(cp)
        elif cls == "C":
            cased.append(cp)

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "python_unicode_tables.inc")
    with open(out, "w", encoding="ascii") as f:
        f.write("// Generated by make_python_unicode_tables.py from Python "
                f"{sys.version.split()[0]} (Unicode {unicodedata.unidata_version})"
                "\n// and utf8proc (Unicode "
                f"{lib.utf8proc_unicode_version().decode()}). Do not edit.\n\n")
        f.write(f'constexpr char kPythonUnicodeVersion[] = "{unicodedata.unidata_version}";\n\n')
        f.write("// Python's facts where utf8proc's differ.\n")
        f.write("constexpr UnicodeOverride kOverrides[] = {\n")
        for first, last, cat, ccc, lower, nfd in overrides:
            d = ", ".join(f"0x{c:X}" for c in nfd) or "0"
            f.write(f"    {{0x{first:X}, 0x{last:X}, UTF8PROC_CATEGORY_{cat.upper()}, "
                    f"{ccc}, 0x{lower:X}, {len(nfd)}, {{{d}}}}},\n")
        f.write("};\n\n")
        for name, cps in (("kCaseIgnorable", ignorable),
                          ("kCasedNotIgnorable", cased)):
            f.write(f"constexpr CodePointRange {name}[] = {{\n")
            for a, b in ranges(cps):
                f.write(f"    {{0x{a:X}, 0x{b:X}}},\n")
            f.write("};\n\n")
    print(f"{out}: {len(overrides)} overrides, "
          f"{len(ranges(ignorable))} case-ignorable ranges, "
          f"{len(ranges(cased))} cased ranges")


if __name__ == "__main__":
    main()
