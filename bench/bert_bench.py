#!/usr/bin/python3
"""semdb's transformer encoder against PyTorch, fp32 and bf16, on MiniLM- and
BERT-base-shaped models and mixed-length texts (8 to 128 tokens).

For each shape (--shapes minilm,base), builds a random-weight BERT with the
torch modules of tests/golden/make_bert_golden.py (nn.TransformerEncoderLayer),
saves it as a Hugging Face folder (mean pooling + Normalize, max_seq_length
128), and embeds texts cut from lee_background.cor to lengths drawn evenly
from 8 to 128 tokens, with:
  PyTorch padded  torch.inference_mode, length-sorted padded batches with the
                  key padding mask: the layers' fused BetterTransformer path
                  (torch._transformer_encoder_layer_fwd);
  PyTorch nested  the same layers inside nn.TransformerEncoder with
                  enable_nested_tensor=True: padding dropped as nested tensors,
                  torch's fastest CPU path for mixed lengths;
  PyTorch bf16    the padded and the nested paths on a bfloat16 copy of the
                  model (its CPU bf16 GEMMs are oneDNN's), the peers of
                  semdb's bf16;
  semdb           bench/bert_bench (TransformerEmbedder) with threads=THREADS,
                  fp32 and bf16: THREADS batches at once, one thread each,
                  their projection and feed-forward GEMMs on oneDNN with
                  packed weights; each precision with
                    OPENBLAS_NUM_THREADS=THREADS  the attention products on
                                                  oneDNN's sgemm;
                    OPENBLAS_NUM_THREADS=1        the attention products on
                                                  OpenBLAS's (small-matrix)
                                                  kernels.
                  semdb's default, precision=auto, runs bf16 where the bf16
                  figures apply (the CPU has AVX512_BF16 or AMX), else fp32.
torch.set_num_threads(THREADS) for PyTorch. Rounds interleave all of them;
each one's best round counts. The ratio is semdb's best fp32 (bf16) mode to
PyTorch's best fp32 (bf16) path. Embeddings are checked against PyTorch's
fp32 ones (max abs diff, lowest cosine). Each round also times semdb's
model load (TransformerEmbedder::Create) with precision fp32, bf16 and auto:
auto's load minus bf16's is the cost of its check (the check texts embedded
in both precisions and compared). semdb's memory is printed for each
precision: resident (VmRSS) and peak (VmHWM) megabytes of the bert_bench
process once the model is loaded, and after it embedded the texts. Last, the
fp32 roofline: the pass's floating-point operations, this machine's fp32 GEMM
rate on the encoder's feed-forward product (OpenBLAS sgemm and torch.mm at
THREADS threads), and the rate each side's best fp32 time amounts to.

Both sides run with OMP_WAIT_POLICY=PASSIVE and the same OpenBLAS settings:
the environment's OPENBLAS_CORETYPE, or --coretype for both; the script
prints the OpenBLAS core each side reports (openblas_get_corename).

Usage: bench/bert_bench.py BUILD_DIR [--threads 2] [--rounds 3]
         [--sentences 256] [--batch 32] [--shapes minilm,base] [--coretype X]
"""
import argparse
import copy
import ctypes
import ctypes.util
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "golden"))
# torch, and make_bert_golden which imports it, are imported by main() once
# the environment that libgomp and OpenBLAS read at load time is set.
torch = golden = None

CORPUS = os.path.join(ROOT, "..", "shared", "data", "gensim", "lee_background.cor")
SHAPES = {
    "minilm": ("MiniLM-shaped (6 layers, hidden 384, 12 heads, intermediate 1536)",
               dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                    intermediate_size=1536, max_position_embeddings=512)),
    "base": ("BERT-base-shaped (12 layers, hidden 768, 12 heads, intermediate 3072)",
             dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                  intermediate_size=3072, max_position_embeddings=512)),
}
MAX_TOKENS = 128


def texts(n):
    """n texts of about 6 to 126 words (8 to 128 tokens with [CLS], [SEP]
    and word pieces; longer ones are cut at 128), from the corpus in order."""
    with open(CORPUS, encoding="utf-8") as f:
        words = f.read().split()
    rng = random.Random(7)
    out, at = [], 0
    for _ in range(n):
        k = rng.randint(5, 100)
        if at + k > len(words):
            at = 0
        out.append(" ".join(words[at:at + k]))
        at += k
    return out


def build_model(folder, shape):
    config = dict(golden.CONFIG, **shape)
    torch.manual_seed(0)
    model = golden.TorchBert(config).eval()
    golden.randomize(model)
    with torch.no_grad():  # trained-model-like scales: keep activations moderate
        for name, p in model.named_parameters():
            if p.dim() == 2 and not name.startswith(("word", "position", "token_type")):
                p.mul_(0.1)
    tensors = {k: v.detach().clone() for k, v in golden.hf_tensors(model).items()}
    golden.write_folder(folder, tensors, config, True, max_seq_length=MAX_TOKENS)
    return model


class TorchEncoder:
    """Token ids from semdb's tokenizer (written by bert_bench), so that both
    sides encode exactly the same sequences."""

    def __init__(self, model, ids, batch):
        self.model, self.batch = model, batch
        self.nested = torch.nn.TransformerEncoder(model.layers[0], len(model.layers),
                                                  enable_nested_tensor=True)
        self.nested.layers = model.layers
        self.nested.eval()
        self.bf16 = copy.deepcopy(model).to(torch.bfloat16).eval()
        self.nested_bf16 = torch.nn.TransformerEncoder(self.bf16.layers[0], len(self.bf16.layers),
                                                       enable_nested_tensor=True)
        self.nested_bf16.layers = self.bf16.layers
        self.nested_bf16.eval()
        self.order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        self.batches = []
        for b in range(0, len(ids), batch):
            chunk = [ids[i] for i in self.order[b:b + batch]]
            length = max(len(s) for s in chunk)
            t = torch.zeros(len(chunk), length, dtype=torch.int64)
            m = torch.zeros(len(chunk), length, dtype=torch.bool)
            for i, s in enumerate(chunk):
                t[i, :len(s)] = torch.tensor(s)
                m[i, :len(s)] = True
            self.batches.append((t, m))

    def layers(self, path, x, m):
        if path in ("nested", "nested_bf16"):
            encoder = self.nested if path == "nested" else self.nested_bf16
            return encoder(x, src_key_padding_mask=~m)
        for layer in (self.bf16 if path == "bf16" else self.model).layers:
            x = layer(x, src_key_padding_mask=~m)
        return x

    def run(self, path):
        out = []
        with torch.inference_mode():
            for t, m in self.batches:
                mo = self.bf16 if path in ("bf16", "nested_bf16") else self.model
                x = mo.norm(mo.word(t) + mo.position(mo.positions(t)) +
                            mo.token_type(torch.zeros_like(t)))
                h = self.layers(path, x, m).float()
                if h.shape[1] < m.shape[1]:  # nested output is padded to its longest
                    m = m[:, :h.shape[1]]
                mf = m.unsqueeze(-1).float()
                mean = (h * mf).sum(1) / mf.sum(1)
                out.append(torch.nn.functional.normalize(mean, dim=1))
        pooled = torch.cat(out).numpy()
        result = np.empty_like(pooled)
        result[self.order] = pooled
        return result


def openblas_core():
    """The kernels of the OpenBLAS that torch's libblas.so.3 resolves to."""
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return "unknown"


def compare(vectors, reference):
    v = vectors.reshape(reference.shape)
    cos = (v * reference).sum(1) / (np.linalg.norm(v, axis=1) * np.linalg.norm(reference, axis=1))
    return float(np.abs(v - reference).max()), float(cos.min())


def model_flops(shape, lengths):
    """Floating-point operations (2 per multiply-add) of one encoder pass over
    sequences of these lengths, padding-free: per token and layer the Q, K, V
    and output projections (4 H^2) and the feed-forward block (2 H I), per
    sequence of L tokens and layer the attention products Q K^T and P V
    (2 L^2 H). Embeddings, norms, softmax and pooling are left out (a few
    percent at most), so the rates below are lower bounds."""
    h, i, layers = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"]
    per_token = 4 * h * h + 2 * h * i
    return 2 * layers * sum(per_token * n + 2 * n * n * h for n in lengths)


def gemm_peak(h, i, tokens):
    """The fp32 GEMM rates (GFLOP/s) this machine reaches on the encoder's
    largest product, a [tokens, H] x [H, I] feed-forward GEMM, with the
    threads PyTorch runs on: OpenBLAS's sgemm (numpy) and torch.mm, best of
    5 each. What bounds any fp32 encoder whose time is mostly GEMMs."""
    rng = np.random.default_rng(0)
    a = rng.random((tokens, h), dtype=np.float32)
    b = rng.random((h, i), dtype=np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    rates = {}
    for name, fn in (("OpenBLAS sgemm (numpy)", lambda: a @ b), ("torch.mm", lambda: ta @ tb)):
        fn()
        best = 1e30
        for _ in range(5):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        rates[name] = 2.0 * tokens * h * i / best / 1e9
    return rates


def bench_shape(args, binary, tmp, key):
    title, shape = SHAPES[key]
    folder = os.path.join(tmp, key)
    model = build_model(folder, shape)
    corpus = texts(args.sentences)
    text_file = os.path.join(tmp, key + ".txt")
    with open(text_file, "w", encoding="utf-8") as f:
        f.write("\n".join(corpus) + "\n")
    ids_file = os.path.join(tmp, key + ".ids")
    semdb_modes = {f"semdb {p} OPENBLAS_NUM_THREADS={t}": (p, t)
                   for p in ("fp32", "bf16") for t in (str(args.threads), "1")}
    facts = {}
    memory = {}  # (precision, "loaded" or "embedded") -> (rss, peak) MB

    def semdb_round(mode):
        precision, openblas_threads = semdb_modes[mode]
        vectors = os.path.join(tmp, key + ".f32")
        env = dict(os.environ, OPENBLAS_NUM_THREADS=openblas_threads)
        r = subprocess.run(
            [binary, "--model", folder, "--sentences", text_file, "--threads", str(args.threads),
             "--batch", str(args.batch), "--precision", precision, "--ids", ids_file,
             "--vectors", vectors],
            env=env, check=True, capture_output=True, text=True)
        facts.update(re.findall(r"(precision|openblas_core)=(\S+)", r.stdout))
        memory[precision, "embedded"] = re.search(r"rss_mb=(\d+) peak_rss_mb=(\d+)", r.stdout).groups()
        seconds = float(re.search(r"seconds=([0-9.]+)", r.stdout).group(1))
        return seconds, np.fromfile(vectors, dtype=np.float32)

    semdb_round(next(iter(semdb_modes)))  # writes the ids; warm-up
    with open(ids_file) as f:
        ids = [[int(x) for x in line.split()] for line in f if line.strip()]
    assert len(ids) == len(corpus)
    enc = TorchEncoder(model, ids, args.batch)
    torch_paths = {"PyTorch fp32 padded": "padded", "PyTorch fp32 nested": "nested",
                   "PyTorch bf16 padded": "bf16", "PyTorch bf16 nested": "nested_bf16"}
    reference = enc.run("padded")
    for path in torch_paths.values():
        enc.run(path)  # warm-up
    times = {k: [] for k in list(torch_paths) + list(semdb_modes)}
    quality = {}
    loads = {p: [] for p in ("fp32", "bf16", "auto")}

    def load_round(precision):
        r = subprocess.run(
            [binary, "--model", folder, "--threads", str(args.threads), "--precision", precision,
             "--load-only", "1"], check=True, capture_output=True, text=True)
        loads[precision].append(float(re.search(r"load_seconds=([0-9.]+)", r.stdout).group(1)))
        memory[precision, "loaded"] = re.search(r"rss_mb=(\d+) peak_rss_mb=(\d+)", r.stdout).groups()
        if precision == "auto":
            facts["auto chose"] = re.search(r"precision=(\S+)", r.stdout).group(1)

    gemm_rows = args.batch * sum(len(s) for s in ids) // len(ids)  # a batch's tokens
    peak = {}
    for _ in range(args.rounds):
        for name, rate in gemm_peak(shape["hidden_size"], shape["intermediate_size"],
                                    gemm_rows).items():
            peak[name] = max(peak.get(name, 0.0), rate)
        for precision in loads:
            load_round(precision)
        for name, path in torch_paths.items():
            start = time.perf_counter()
            v = enc.run(path)
            times[name].append(time.perf_counter() - start)
            quality[name] = compare(v, reference)
        for mode in semdb_modes:
            seconds, v = semdb_round(mode)
            times[mode].append(seconds)
            quality[mode] = compare(v, reference)

    n, lengths = len(corpus), [len(s) for s in ids]
    rate = {k: n / min(v) for k, v in times.items()}
    print(f"\nmodel: {title}, random weights, mean pooling + Normalize")
    print(f"data: {n} texts from lee_background.cor, {sum(lengths)} tokens (min {min(lengths)}, "
          f"mean {sum(lengths) / n:.1f}, max {max(lengths)}), length-sorted batches of "
          f"{args.batch} on every side")
    for k, v in times.items():
        diff, cos = quality[k]
        print(f"  {k:34s} {rate[k]:7.1f} texts/s   vs PyTorch fp32: max abs diff {diff:.1e}, "
              f"lowest cosine {cos:.6f}   rounds (s): " + " ".join(f"{t:.3f}" for t in v))
    best = lambda prefix: max((r, k) for k, r in rate.items() if k.startswith(prefix))
    for p in ("fp32", "bf16"):
        s, t = best(f"semdb {p}"), best(f"PyTorch {p}")
        print(f"ratio {p}: {s[1]} / {t[1]} = {s[0] / t[0]:.2f}x")
    s, t = best("semdb bf16"), best("PyTorch fp32")
    print(f"ratio semdb bf16 / PyTorch's fastest fp32: {s[1]} / {t[1]} = {s[0] / t[0]:.2f}x")
    # The fp32 roofline: what the machine's own fp32 GEMM allows.
    flops = model_flops(shape, lengths)
    top = max(peak.values())
    print(f"fp32 roofline: {flops / 1e9:.0f} GFLOP per pass; this machine's fp32 GEMM at "
          f"{args.threads} threads on a [{gemm_rows}, {shape['hidden_size']}] x "
          f"[{shape['hidden_size']}, {shape['intermediate_size']}] product (best round): " +
          ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in peak.items()))
    for p in ("semdb fp32", "PyTorch fp32"):
        r, k = best(p)
        achieved = flops * r / n / 1e9
        print(f"  {k:34s} {achieved:6.0f} GFLOP/s = {achieved / top:.0%} of the best GEMM rate")
    r, k = best("PyTorch fp32")
    print(f"  the best GEMM rate over {k}'s: {top / (flops * r / n / 1e9):.2f}x (an fp32 "
          "encoder running at that GEMM rate throughout gains this much)")
    print(f"semdb: precision {facts.get('precision')}, OpenBLAS core {facts.get('openblas_core')}")
    best_load = {p: min(v) for p, v in loads.items()}
    print("semdb model load (TransformerEmbedder::Create, best round): " +
          ", ".join(f"precision={p} {t:.3f} s" for p, t in best_load.items()) +
          f"; precision=auto chose {facts['auto chose']}, its check cost "
          f"{best_load['auto'] - best_load['bf16']:.3f} s over precision=bf16")
    print("semdb memory (MB, resident / peak): " + ", ".join(
        f"precision={p} loaded {'/'.join(memory[p, 'loaded'])}" +
        (f", embedded {'/'.join(memory[p, 'embedded'])}" if (p, "embedded") in memory else "")
        for p in loads))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sentences", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--shapes", default="minilm,base")
    ap.add_argument("--coretype", default="")
    args = ap.parse_args()
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    if args.coretype:
        os.environ["OPENBLAS_CORETYPE"] = args.coretype
    global torch, golden
    import torch
    import make_bert_golden as golden
    torch.set_num_threads(args.threads)
    binary = os.path.join(args.build_dir, "bench", "bert_bench")
    print(f"threads: {args.threads} (machine has {os.cpu_count()} cores); torch {torch.__version__} "
          f"; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, PyTorch's OpenBLAS core "
          f"{openblas_core()}; {args.rounds} interleaved rounds, best of each")
    with tempfile.TemporaryDirectory(prefix="semdb-bench-") as tmp:
        for key in args.shapes.split(","):
            bench_shape(args, binary, tmp, key)


if __name__ == "__main__":
    main()
