#!/usr/bin/python3
"""A tiny random-weight BERT built from torch's own modules, saved as a
Hugging Face model folder, with golden outputs for semdb's BERT encoder.

The reference network is torch's: nn.Embedding for words, positions and
token types, nn.LayerNorm, and nn.TransformerEncoderLayer (post-norm,
GELU with erf, multi-head attention with a key padding mask). It runs in
float64 on the float32 weights it saves, on one padding-heavy batch holding
every sentence, and each sentence is checked to give the same states alone.

Token ids are not made here: they come from the reference BERT tokenizer's
golden file (../shared/data/wordpiece/golden.jsonl), framed by [CLS]/[SEP]
and truncated to the model's 64 positions as Hugging Face does.

Writes, under tests/data/:
  bert_tiny/        F32 weights with BertModel's names (no "bert." prefix),
                    sentence-transformers files (mean pooling, Normalize)
  bert_tiny_half/   the same network with F16 and BF16 weights, names with
                    the "bert." prefix of BertFor* checkpoints, extra
                    tensors a loader must ignore, no sentence-transformers
                    files
  golden/bert_tiny.json
Run from the repository root: tests/golden/make_bert_golden.py
"""
import json
import os
import random
import shutil
import struct

import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "..", "shared", "data", "wordpiece")
DATA = os.path.join(ROOT, "tests", "data")

CONFIG = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "vocab_size": 30522,
    "hidden_size": 24,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 96,
    "hidden_act": "gelu",
    "max_position_embeddings": 64,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "position_embedding_type": "absolute",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "initializer_range": 0.02,
    "pad_token_id": 0,
}
CLS, SEP = 101, 102
SENTENCES = 18
HALF_SENTENCES = 6


class TorchBert(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        # Hugging Face's "gelu" is erf GELU, "gelu_new" torch's tanh GELU.
        act = {"gelu": "gelu",
               "gelu_new": lambda x: F.gelu(x, approximate="tanh")}[c.get("hidden_act", "gelu")]
        self.word = nn.Embedding(c["vocab_size"], h)
        self.position = nn.Embedding(c["max_position_embeddings"], h)
        self.token_type = nn.Embedding(c["type_vocab_size"], h)
        self.norm = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(
                h, c["num_attention_heads"], c["intermediate_size"], dropout=0.0,
                activation=act, layer_norm_eps=c["layer_norm_eps"],
                batch_first=True, norm_first=False)
            for _ in range(c["num_hidden_layers"])])

    def positions(self, ids):
        """Position ids [B, L] of token ids [B, L]: 0, 1, 2..."""
        return torch.arange(ids.shape[1])[None, :].expand(ids.shape)

    def forward(self, ids, mask):
        """ids [B, L] int64, mask [B, L] bool (True on real tokens)."""
        x = self.norm(self.word(ids) + self.position(self.positions(ids)) +
                      self.token_type(torch.zeros_like(ids)))
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=~mask)
        return x


def randomize(model):
    """Weights large enough that attention is far from uniform and every
    LayerNorm scale and bias matters."""
    g = torch.Generator().manual_seed(20240611)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith(("word", "position", "token_type")):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.35)


def hf_layer_tensors(model, prefix=""):
    """Views of the layers' weights under BertModel's names (RoBERTa's are
    the same), each with `prefix`."""
    t = {}
    for i, layer in enumerate(model.layers):
        p = f"{prefix}encoder.layer.{i}."
        att = layer.self_attn
        h = att.embed_dim
        for k, part in enumerate(("query", "key", "value")):
            t[p + f"attention.self.{part}.weight"] = att.in_proj_weight[k * h:(k + 1) * h]
            t[p + f"attention.self.{part}.bias"] = att.in_proj_bias[k * h:(k + 1) * h]
        t[p + "attention.output.dense.weight"] = att.out_proj.weight
        t[p + "attention.output.dense.bias"] = att.out_proj.bias
        t[p + "attention.output.LayerNorm.weight"] = layer.norm1.weight
        t[p + "attention.output.LayerNorm.bias"] = layer.norm1.bias
        t[p + "intermediate.dense.weight"] = layer.linear1.weight
        t[p + "intermediate.dense.bias"] = layer.linear1.bias
        t[p + "output.dense.weight"] = layer.linear2.weight
        t[p + "output.dense.bias"] = layer.linear2.bias
        t[p + "output.LayerNorm.weight"] = layer.norm2.weight
        t[p + "output.LayerNorm.bias"] = layer.norm2.bias
    return t


def hf_tensors(model, prefix=""):
    """Views of the model's weights under Hugging Face BertModel's names."""
    t = {
        prefix + "embeddings.word_embeddings.weight": model.word.weight,
        prefix + "embeddings.position_embeddings.weight": model.position.weight,
        prefix + "embeddings.token_type_embeddings.weight": model.token_type.weight,
        prefix + "embeddings.LayerNorm.weight": model.norm.weight,
        prefix + "embeddings.LayerNorm.bias": model.norm.bias,
    }
    t.update(hf_layer_tensors(model, prefix))
    return t


DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
               torch.int64: "I64"}


def save_safetensors(path, tensors):
    """The safetensors format, written by hand: 8-byte little-endian header
    length, JSON header, then the little-endian tensor bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 \
            else t.numpy().tobytes()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def pick_sentences():
    """Reference tokenizations of varied lengths: empty, short, long, and
    longer than the 64 positions (truncated)."""
    with open(os.path.join(SHARED, "golden.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f.read().split("\n") if line]
    rng = random.Random(7)
    by_size = {"empty": [r for r in records if not r["ids"]],
               "short": [r for r in records if 1 <= len(r["ids"]) <= 6],
               "medium": [r for r in records if 7 <= len(r["ids"]) <= 30],
               "long": [r for r in records if 31 <= len(r["ids"]) <= 62],
               "over": [r for r in records if len(r["ids"]) > 62]}
    counts = {"empty": 1, "short": 6, "medium": 6, "long": 3, "over": 2}
    chosen = []
    for size, n in counts.items():
        chosen += rng.sample(by_size[size], n)
    rng.shuffle(chosen)
    assert len(chosen) == SENTENCES
    room = CONFIG["max_position_embeddings"] - 2
    return [{"text": r["text"], "ids": [CLS] + r["ids"][:room] + [SEP],
             "truncated": len(r["ids"]) > room} for r in chosen]


def run(model, sentences, pad_id=0):
    """Last hidden states of all sentences in one padded batch (float64)."""
    length = max(len(s["ids"]) for s in sentences)
    ids = torch.full((len(sentences), length), pad_id, dtype=torch.int64)
    mask = torch.zeros(len(sentences), length, dtype=torch.bool)
    for i, s in enumerate(sentences):
        ids[i, :len(s["ids"])] = torch.tensor(s["ids"])
        mask[i, :len(s["ids"])] = True
    with torch.no_grad():
        out = model(ids, mask)
        for i, s in enumerate(sentences):  # padding must not change anything
            n = len(s["ids"])
            alone = model(ids[i:i + 1, :n], mask[i:i + 1, :n])[0]
            assert torch.allclose(alone, out[i, :n], atol=1e-10, rtol=0), i
    return [out[i, :len(s["ids"])] for i, s in enumerate(sentences)]


def golden_of(hidden):
    mean = hidden.mean(dim=0)
    cls = hidden[0]
    return {
        "hidden": hidden.tolist(),
        "mean": mean.tolist(),
        "mean_normalized": torch.nn.functional.normalize(mean, dim=0).tolist(),
        "cls": cls.tolist(),
        "cls_normalized": torch.nn.functional.normalize(cls, dim=0).tolist(),
    }


def write_folder(path, tensors, config, sentence_transformers, max_seq_length=64):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    write_json(os.path.join(path, "config.json"), config)
    save_safetensors(os.path.join(path, "model.safetensors"), tensors)
    shutil.copyfile(os.path.join(SHARED, "bert-base-uncased-vocab.txt"),
                os.path.join(path, "vocab.txt"))
    write_json(os.path.join(path, "tokenizer_config.json"),
               {"do_lower_case": True, "model_max_length": config["max_position_embeddings"],
                "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]",
                "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                "mask_token": "[MASK]"})
    if sentence_transformers:
        write_json(os.path.join(path, "modules.json"), [
            {"idx": 0, "name": "0", "path": "",
             "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"}])
        write_json(os.path.join(path, "1_Pooling", "config.json"),
                   {"word_embedding_dimension": config["hidden_size"],
                    "pooling_mode_cls_token": False,
                    "pooling_mode_mean_tokens": True,
                    "pooling_mode_max_tokens": False,
                    "pooling_mode_mean_sqrt_len_tokens": False})
        write_json(os.path.join(path, "sentence_bert_config.json"),
                   {"max_seq_length": max_seq_length, "do_lower_case": False})


def main():
    torch.manual_seed(0)
    model = TorchBert(CONFIG).eval()
    randomize(model)
    sentences = pick_sentences()

    tensors = {k: v.detach().clone() for k, v in hf_tensors(model).items()}
    write_folder(os.path.join(DATA, "bert_tiny"), tensors, CONFIG, True)
    full = run(model.double(), sentences)

    # The half variant: each tensor rounded to F16 or BF16 in turn, and the
    # reference rerun on exactly the rounded weights.
    half = {}
    for k, name in enumerate(sorted(tensors)):
        half["bert." + name] = tensors[name].to(torch.float16 if k % 2 else torch.bfloat16)
    half["bert.embeddings.position_ids"] = torch.arange(64, dtype=torch.int64)[None, :]
    half["bert.pooler.dense.weight"] = torch.zeros(24, 24, dtype=torch.float16)
    half["cls.predictions.bias"] = torch.zeros(CONFIG["vocab_size"], dtype=torch.float16)
    config = dict(CONFIG, architectures=["BertForMaskedLM"])
    write_folder(os.path.join(DATA, "bert_tiny_half"), half, config, False)
    rounded = TorchBert(CONFIG).eval()
    with torch.no_grad():
        for name, p in hf_tensors(rounded).items():
            p.copy_(half["bert." + name].float())  # writes through the views
    half_states = run(rounded.double(), sentences[:HALF_SENTENCES])

    write_json(os.path.join(DATA, "golden", "bert_tiny.json"), {
        "torch": torch.__version__,
        "config": CONFIG,
        "sentences": [dict(s, **golden_of(h)) for s, h in zip(sentences, full)],
        "half": [dict(s, **golden_of(h))
                 for s, h in zip(sentences[:HALF_SENTENCES], half_states)],
    })
    print(f"{len(sentences)} sentences, lengths "
          f"{sorted(len(s['ids']) for s in sentences)}")


if __name__ == "__main__":
    main()
