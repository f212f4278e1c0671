#!/usr/bin/python3
"""Extracts the articles of a MediaWiki XML dump (.xml or .xml.bz2) into a
folder of plain-text files, one per article, for importing into semdb.

    scripts/wikipedia_to_text.py DUMP OUTDIR [--min-chars N]

Each file is named after the article's title (characters other than letters,
digits, '-' and '_' become '_') with the extension .txt; its first line is
the title, then a blank line, then the text. Redirects, pages outside the
main namespace and articles shorter than --min-chars characters (default 500)
after cleaning are skipped.

Cleaning removes the obvious wiki markup, reasonably rather than perfectly:
comments, references, templates ({{...}}), tables ({|...|}), files,
images and categories, HTML tags; keeps the visible text of links and of
bold/italic; turns section headings into lines of their own between blank
lines and list items into "- " lines. Only the Python standard library is
used (bz2, xml.etree).
"""
import argparse
import bz2
import html
import os
import re
import sys
import xml.etree.ElementTree as ET


def strip_nested(text, opener, closer):
    """Removes every outermost opener...closer block, nesting included."""
    out = []
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        if text.startswith(opener, i):
            depth += 1
            i += len(opener)
        elif depth and text.startswith(closer, i):
            depth -= 1
            i += len(closer)
        else:
            if depth == 0:
                out.append(text[i])
            i += 1
    return "".join(out)


def replace_links(text):
    """[[target|label]] -> label, [[target]] -> target; file, image and
    category links (which may nest links in captions) disappear."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("[[", i):
            # Find the matching ]] with nesting.
            depth = 0
            j = i
            while j < n:
                if text.startswith("[[", j):
                    depth += 1
                    j += 2
                elif text.startswith("]]", j):
                    depth -= 1
                    j += 2
                    if depth == 0:
                        break
                else:
                    j += 1
            inner = text[i + 2:j - 2]
            target = inner.split("|", 1)[0].strip().lower()
            if not re.match(r"(file|image|category|media|[a-z]{2,3}(-[a-z]+)?):", target):
                label = inner.rsplit("|", 1)[-1] if "|" in inner else inner
                out.append(replace_links(label))
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def clean(wikitext):
    text = re.sub(r"<!--.*?-->", "", wikitext, flags=re.S)
    text = re.sub(r"<ref[^>/]*/>", "", text)
    text = re.sub(r"<ref[^>]*>.*?</ref>", "", text, flags=re.S)
    text = strip_nested(text, "{{", "}}")
    text = strip_nested(text, "{|", "|}")
    text = replace_links(text)
    text = re.sub(r"\[(?:https?|ftp)://[^\s\]]+\s*([^\]]*)\]", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"'{2,}", "", text)
    text = html.unescape(text).replace("\u00a0", " ")
    lines = []
    for line in text.split("\n"):
        line = line.strip()
        heading = re.match(r"^(=+)\s*(.*?)\s*\1$", line)
        if heading:
            lines += ["", heading.group(2), ""]
        elif re.match(r"^[*#:;]+", line):
            item = re.sub(r"^[*#:;]+\s*", "", line)
            if item:
                lines.append("- " + item)
        else:
            lines.append(line)
    text = "\n".join(lines)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def file_name(title):
    return re.sub(r"[^A-Za-z0-9_-]", "_", title) + ".txt"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump")
    parser.add_argument("outdir")
    parser.add_argument("--min-chars", type=int, default=500)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    opener = bz2.open if args.dump.endswith(".bz2") else open
    written = skipped = 0
    with opener(args.dump, "rb") as f:
        for _, elem in ET.iterparse(f):
            if not elem.tag.endswith("}page"):
                continue
            ns = elem.findtext("{*}ns")
            title = elem.findtext("{*}title") or ""
            wikitext = elem.findtext("{*}revision/{*}text") or ""
            elem.clear()
            if ns != "0" or wikitext.lstrip().upper().startswith("#REDIRECT"):
                skipped += 1
                continue
            body = clean(wikitext)
            if len(body) < args.min_chars:
                skipped += 1
                continue
            with open(os.path.join(args.outdir, file_name(title)), "w", encoding="utf-8") as out:
                out.write(title + "\n\n" + body + "\n")
            written += 1
    print(f"wrote {written} articles to {args.outdir} (skipped {skipped} pages)")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
