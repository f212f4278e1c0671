"""examples/python/semdb_rag.py, the package RAG example, on the Wikipedia
articles: it loads them and prints a cited prompt within its budget."""
import os
import re
import subprocess
import sys

from conftest import BUILD, ROOT


def test_rag_example(tmp_path, wikipedia_articles):
    folder, _ = wikipedia_articles
    question = "Which philosopher tutored Alexander the Great and studied under Plato?"
    env = dict(os.environ, PYTHONPATH=os.path.join(BUILD, "python"))
    script = os.path.join(ROOT, "examples", "python", "semdb_rag.py")
    out = subprocess.run([sys.executable, script, "--db", str(tmp_path / "db"), "--load",
                          str(folder), "--budget", "300", question],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert re.search(r"^loaded 10[0-9] documents", out.stderr, re.M)
    assert f"\nQuestion: {question}\n" in out.stdout
    assert re.search(rf"^\[1\] {re.escape(str(folder))}/Aristotle.txt, bytes \d+-\d+$",
                     out.stdout, re.M)
    assert re.search(r"^\[2\] ", out.stdout, re.M)
    assert len(out.stdout.split()) <= 300
    assert "LLM hand-off" in out.stderr
    # A second run asks the stored collection; a bad database path fails cleanly.
    again = subprocess.run([sys.executable, script, "--db", str(tmp_path / "db"), "--budget",
                            "300", question],
                           capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and again.stdout == out.stdout
    (tmp_path / "file").write_text("x")
    bad = subprocess.run([sys.executable, script, "--db", str(tmp_path / "file"), question],
                         capture_output=True, text=True, env=env, timeout=600)
    assert bad.returncode == 1 and bad.stderr.startswith("semdb: ")


def test_readme_python_example(tmp_path, lee_texts):
    """The README's Python example, run as written (from the repository
    root, the database in a temporary folder), prints what the README says
    it prints (its scores were those of an older build)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme[readme.index("### Python"):readme.index("### C++")]
    code, output = re.search(r"```python\n(.*?)```\n```\n(.*?)```", section, re.S).groups()
    assert '"news.semdb"' in code
    code = code.replace('"news.semdb"', repr(str(tmp_path / "news.semdb")))
    env = dict(os.environ, PYTHONPATH=os.path.join(BUILD, "python"))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout == output
