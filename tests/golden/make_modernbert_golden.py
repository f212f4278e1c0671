#!/usr/bin/python3
"""A tiny random-weight ModernBERT written with explicit torch ops, saved as
a Hugging Face model folder, with golden outputs for semdb's encoder.

ModernBERT, as Hugging Face's ModernBertModel computes it: token embeddings
and a LayerNorm (no position table, no token types, no biases anywhere:
LayerNorms without bias, Linear without bias); then per layer, pre-norm
(layer 0 has no norm before attention) x += Wo(attention(attn_norm(x))) with
rotary position embeddings on queries and keys (rotate_half convention,
inv_freq = 1 / base^(2k / d), base global_rope_theta in global layers and
local_rope_theta in local ones) and x += Wo(GELU(a) * b) where a, b =
Wi(mlp_norm(x)).chunk(2) (GeGLU); a layer is global when its index is a
multiple of global_attn_every_n_layers, else a token attends only to tokens
at most local_attention // 2 positions away; then final_norm. Float64 on the
saved float32 weights, one padded batch, each sentence also alone.

Token ids: the npm `tokenizers` byte-level BPE's golden encodings
(tests/golden/tokenizers/bpe_byte_level; ModernBERT's own tokenizer is a
byte-level BPE), cut to 64 tokens (the folder's max_seq_length), plus two
whole sequences of over 200 tokens.

Writes tests/data/modernbert_tiny/ (config.json as Hugging Face writes it
for model_type modernbert, model.safetensors with ModernBertForMaskedLM's
"model." prefix and a head a loader must ignore, tokenizer.json,
sentence-transformers files) and tests/data/golden/modernbert_tiny.json.
Run from the repository root: tests/golden/make_modernbert_golden.py
"""
import torch
import torch.nn.functional as F
from torch import nn

from make_bert_golden import run
from make_roberta_golden import (MAX_TOKENS, PAD, tokenized_sentences, vocab_size, write_folder,
                                 write_golden)

TOKENIZER = "bpe_byte_level"
CONFIG = {
    "architectures": ["ModernBertForMaskedLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 0,
    "classifier_activation": "gelu",
    "classifier_bias": False,
    "classifier_dropout": 0.0,
    "classifier_pooling": "mean",
    "cls_token_id": 0,
    "decoder_bias": True,
    "deterministic_flash_attn": False,
    "embedding_dropout": 0.0,
    "eos_token_id": 2,
    "global_attn_every_n_layers": 2,
    "global_rope_theta": 160000.0,
    "gradient_checkpointing": False,
    "hidden_activation": "gelu",
    "hidden_size": 32,
    "initializer_cutoff_factor": 2.0,
    "initializer_range": 0.02,
    "intermediate_size": 48,
    "layer_norm_eps": 1e-05,
    "local_attention": 8,
    "local_rope_theta": 10000.0,
    "max_position_embeddings": 512,
    "mlp_bias": False,
    "mlp_dropout": 0.0,
    "model_type": "modernbert",
    "norm_bias": False,
    "norm_eps": 1e-05,
    "num_attention_heads": 4,
    "num_hidden_layers": 3,
    "pad_token_id": 1,
    "position_embedding_type": "absolute",
    "sep_token_id": 2,
    "vocab_size": vocab_size(TOKENIZER),
}


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rotary(x, base):
    """x [B, heads, L, d] turned by the rotary angles of positions 0..L-1."""
    d = x.shape[-1]
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    freqs = torch.arange(x.shape[2], dtype=torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return x * emb.cos().to(x.dtype) + rotate_half(x) * emb.sin().to(x.dtype)


class TorchModernBert(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, inter = c["hidden_size"], c["intermediate_size"]
        self.c = c
        self.tok = nn.Embedding(c["vocab_size"], h)
        self.emb_norm = nn.Parameter(torch.ones(h))
        self.attn_norm = nn.ParameterList(
            [nn.Parameter(torch.ones(h)) for _ in range(c["num_hidden_layers"] - 1)])
        self.wqkv = nn.ModuleList([nn.Linear(h, 3 * h, bias=False)
                                   for _ in range(c["num_hidden_layers"])])
        self.wo = nn.ModuleList([nn.Linear(h, h, bias=False)
                                 for _ in range(c["num_hidden_layers"])])
        self.mlp_norm = nn.ParameterList(
            [nn.Parameter(torch.ones(h)) for _ in range(c["num_hidden_layers"])])
        self.wi = nn.ModuleList([nn.Linear(h, 2 * inter, bias=False)
                                 for _ in range(c["num_hidden_layers"])])
        self.mlp_wo = nn.ModuleList([nn.Linear(inter, h, bias=False)
                                     for _ in range(c["num_hidden_layers"])])
        self.final_norm = nn.Parameter(torch.ones(h))

    def norm(self, x, weight):
        return F.layer_norm(x, (x.shape[-1],), weight, None, self.c["norm_eps"])

    def forward(self, ids, mask):
        c = self.c
        batch, length = ids.shape
        heads = c["num_attention_heads"]
        d = c["hidden_size"] // heads
        positions = torch.arange(length)
        distance = (positions[None, :] - positions[:, None]).abs()
        x = self.norm(self.tok(ids), self.emb_norm)
        for i in range(c["num_hidden_layers"]):
            local = i % c["global_attn_every_n_layers"] != 0
            base = c["local_rope_theta"] if local else c["global_rope_theta"]
            y = x if i == 0 else self.norm(x, self.attn_norm[i - 1])
            qkv = self.wqkv[i](y).view(batch, length, 3, heads, d).permute(2, 0, 3, 1, 4)
            q, k, v = rotary(qkv[0], base), rotary(qkv[1], base), qkv[2]
            scores = q @ k.transpose(-1, -2) / d ** 0.5
            allowed = mask[:, None, None, :]
            if local:
                allowed = allowed & (distance <= c["local_attention"] // 2)[None, None]
            # Padding queries attend to themselves too, so that no row is all
            # -inf (a NaN that 0 * NaN would carry into real rows); a text's
            # own rows allow their diagonal already.
            allowed = allowed | torch.eye(length, dtype=torch.bool)[None, None]
            scores = scores.masked_fill(~allowed, float("-inf"))
            context = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, length, -1)
            x = x + self.wo[i](context)
            a, b = self.wi[i](self.norm(x, self.mlp_norm[i])).chunk(2, dim=-1)
            x = x + self.mlp_wo[i](F.gelu(a) * b)
        return self.norm(x, self.final_norm)


def main():
    torch.manual_seed(14)
    model = TorchModernBert(CONFIG).eval()
    g = torch.Generator().manual_seed(20250115)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.startswith("tok"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    tensors = {
        "model.embeddings.tok_embeddings.weight": model.tok.weight,
        "model.embeddings.norm.weight": model.emb_norm,
        "model.final_norm.weight": model.final_norm,
        "head.dense.weight": torch.zeros(CONFIG["hidden_size"], CONFIG["hidden_size"]),
        "head.norm.weight": torch.ones(CONFIG["hidden_size"]),
        "decoder.bias": torch.zeros(CONFIG["vocab_size"]),
    }
    for i in range(CONFIG["num_hidden_layers"]):
        p = f"model.layers.{i}."
        if i > 0:
            tensors[p + "attn_norm.weight"] = model.attn_norm[i - 1]
        tensors[p + "attn.Wqkv.weight"] = model.wqkv[i].weight
        tensors[p + "attn.Wo.weight"] = model.wo[i].weight
        tensors[p + "mlp_norm.weight"] = model.mlp_norm[i]
        tensors[p + "mlp.Wi.weight"] = model.wi[i].weight
        tensors[p + "mlp.Wo.weight"] = model.mlp_wo[i].weight
    write_folder("modernbert_tiny", CONFIG, tensors, TOKENIZER)
    sentences = tokenized_sentences(TOKENIZER, with_pad=False, long_ids=2)
    assert max(len(s["ids"]) for s in sentences if "text" in s) == MAX_TOKENS
    write_golden("modernbert_tiny", CONFIG, sentences, run(model.double(), sentences, PAD))


if __name__ == "__main__":
    main()
