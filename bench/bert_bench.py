#!/usr/bin/python3
"""semdb's BERT encoder against PyTorch on a MiniLM-shaped model.

Builds a random-weight BERT shaped like all-MiniLM-L6-v2 (6 layers, hidden
384, 12 heads, intermediate 1536, mean pooling + Normalize) with the torch
modules of tests/golden/make_bert_golden.py, saves it as a Hugging Face
folder, and embeds mixed-length English sentences (lee_background.cor split
into sentences) with both:
  PyTorch  the torch model in float32, length-sorted padded batches with the
           key padding mask, torch.set_num_threads(THREADS);
  semdb    bench/bert_bench (the TransformerEmbedder on that folder) with
           threads=THREADS, in its two modes:
             gemm-parallel   OPENBLAS_NUM_THREADS=THREADS: one batch at a
                             time, each GEMM on OpenBLAS's threads;
             batch-parallel  OPENBLAS_NUM_THREADS=1: THREADS batches at once.
Rounds alternate between the three; each one's best round counts. semdb's
vectors are also checked against PyTorch's.

Both sides use the same OpenBLAS (torch's CPU GEMMs go through libblas,
which Debian points at OpenBLAS) with OMP_WAIT_POLICY=PASSIVE. --coretype
sets OPENBLAS_CORETYPE for both: OpenBLAS 0.3.21 runs its Haswell kernels on
AVX-512 AMD CPUs, and SkylakeX selects its AVX-512 kernels.

Usage: bench/bert_bench.py BUILD_DIR [--threads 2] [--rounds 5]
         [--sentences 512] [--batch 32] [--coretype SkylakeX]
"""
import argparse
import os
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
MINILM_SHAPE = dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                    intermediate_size=1536, max_position_embeddings=512)


def sentences(n):
    with open(CORPUS, encoding="utf-8") as f:
        text = f.read()
    out = [s.strip() for line in text.split("\n")
           for s in re.split(r"(?<=[.!?])\s+", line) if len(s.split()) >= 3]
    return out[:n]


def build_model(folder):
    config = dict(golden.CONFIG, **MINILM_SHAPE)
    torch.manual_seed(0)
    model = golden.TorchBert(config).eval()
    golden.randomize(model)
    with torch.no_grad():  # MiniLM-like scales: keep activations moderate
        for name, p in model.named_parameters():
            if p.dim() == 2 and not name.startswith(("word", "position", "token_type")):
                p.mul_(0.1)
    tensors = {k: v.detach().clone() for k, v in golden.hf_tensors(model).items()}
    golden.write_folder(folder, tensors, config, True, max_seq_length=256)
    return model


class TorchEncoder:
    """Token ids from semdb's tokenizer (written by bert_bench), so both
    sides encode exactly the same sequences."""

    def __init__(self, model, ids, batch):
        self.model, self.batch = model, batch
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

    def run(self):
        out = []
        with torch.inference_mode():
            for t, m in self.batches:
                h = self.model(t, m)
                mf = m.unsqueeze(-1).float()
                mean = (h * mf).sum(1) / mf.sum(1)
                out.append(torch.nn.functional.normalize(mean, dim=1))
        pooled = torch.cat(out).numpy()
        result = np.empty_like(pooled)
        result[self.order] = pooled
        return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sentences", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--coretype", default="")
    args = ap.parse_args()
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    if args.coretype:
        os.environ["OPENBLAS_CORETYPE"] = args.coretype
    global torch, golden
    import torch
    import make_bert_golden as golden
    binary = os.path.join(args.build_dir, "bench", "bert_bench")
    torch.set_num_threads(args.threads)
    modes = {"gemm-parallel": str(args.threads), "batch-parallel": "1"}

    with tempfile.TemporaryDirectory(prefix="semdb-bench-") as tmp:
        folder = os.path.join(tmp, "minilm-random")
        model = build_model(folder)
        texts = sentences(args.sentences)
        text_file = os.path.join(tmp, "sentences.txt")
        with open(text_file, "w", encoding="utf-8") as f:
            f.write("\n".join(texts) + "\n")
        ids_file = os.path.join(tmp, "ids.txt")

        def semdb_round(mode):
            vectors = os.path.join(tmp, mode + ".f32")
            env = dict(os.environ, OPENBLAS_NUM_THREADS=modes[mode])
            r = subprocess.run(
                [binary, "--model", folder, "--sentences", text_file, "--threads",
                 str(args.threads), "--batch", str(args.batch), "--ids", ids_file,
                 "--vectors", vectors],
                env=env, check=True, capture_output=True, text=True)
            seconds = float(re.search(r"seconds=([0-9.]+)", r.stdout).group(1))
            return seconds, np.fromfile(vectors, dtype=np.float32)

        semdb_round("gemm-parallel")  # writes the ids
        with open(ids_file) as f:
            ids = [[int(x) for x in line.split()] for line in f if line.strip()]
        assert len(ids) == len(texts)
        torch_encoder = TorchEncoder(model, ids, args.batch)
        torch_encoder.run()  # warm-up
        times = {"PyTorch": [], **{m: [] for m in modes}}
        diffs = {}
        for _ in range(args.rounds):
            start = time.perf_counter()
            reference = torch_encoder.run()
            times["PyTorch"].append(time.perf_counter() - start)
            for mode in modes:
                seconds, vectors = semdb_round(mode)
                times[mode].append(seconds)
                diffs[mode] = float(np.abs(vectors.reshape(reference.shape) - reference).max())

    n = len(texts)
    tokens = sum(len(s) for s in ids)
    rate = {k: n / min(v) for k, v in times.items()}
    print("model: MiniLM-shaped BERT (6 layers, hidden 384, 12 heads, intermediate 1536), "
          "random weights, mean pooling + Normalize")
    print(f"data: {n} sentences from lee_background.cor, {tokens} tokens "
          f"(mean {tokens / n:.1f}, max {max(len(s) for s in ids)}), length-sorted batches "
          f"of {args.batch} on both sides")
    print(f"threads: {args.threads} (machine has {os.cpu_count()} cores); torch "
          f"{torch.__version__}; OpenBLAS kernels: "
          f"{args.coretype or 'autodetected'}; {args.rounds} interleaved rounds, best of each")
    for k, v in times.items():
        print(f"  {k:15s} {rate[k]:7.1f} sentences/s   rounds (s): "
              + " ".join(f"{t:.3f}" for t in v))
    for mode in modes:
        print(f"ratio semdb {mode} / PyTorch: {rate[mode] / rate['PyTorch']:.2f}x   "
              f"(max abs diff of the embeddings to PyTorch: {diffs[mode]:.2e})")


if __name__ == "__main__":
    main()
