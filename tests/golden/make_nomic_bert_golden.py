#!/usr/bin/python3
"""A tiny random-weight NomicBERT (nomic-embed-text-v1.5's architecture)
written with explicit torch ops, saved as a Hugging Face model folder, with
golden outputs for semdb's encoder.

NomicBERT, as nomic's NomicBertModel computes it for embeddings: word
embeddings + token type 0 embeddings, LayerNorm (emb_ln); then per layer,
post-norm: x = norm1(x + out_proj(attention(Wqkv(x)))) with rotary position
embeddings on queries and keys (rotate_half convention, rotary_emb_base,
rotary_emb_fraction 1, not interleaved, no scaling), and x = norm2(x +
fc2(fc11(x) * silu(fc12(x)))) (SwiGLU); no biases in the Linear layers.
Float64 on the saved float32 weights, one padded batch, each sentence also
alone.

Token ids: the npm `tokenizers` golden encodings of an uncased WordPiece
tokenizer (tests/golden/tokenizers/wordpiece_uncased; nomic-embed uses
bert-base-uncased's), cut to 64 tokens, plus two whole sequences of over
200 tokens.

Writes tests/data/nomic_bert_tiny/ (config.json as nomic's checkpoints
carry it for model_type nomic_bert, model.safetensors with NomicBertModel's
names, tokenizer.json, sentence-transformers files) and
tests/data/golden/nomic_bert_tiny.json.
Run from the repository root: tests/golden/make_nomic_bert_golden.py
"""
import torch
import torch.nn.functional as F
from torch import nn

from make_bert_golden import run
from make_modernbert_golden import rotary
from make_roberta_golden import tokenized_sentences, vocab_size, write_folder, write_golden

TOKENIZER = "wordpiece_uncased"
CONFIG = {
    "activation_function": "swiglu",
    "architectures": ["NomicBertModel"],
    "attn_pdrop": 0.0,
    "bos_token_id": None,
    "causal": False,
    "dense_seq_output": True,
    "embd_pdrop": 0.0,
    "eos_token_id": None,
    "fused_bias_fc": True,
    "fused_dropout_add_ln": True,
    "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-12,
    "max_trained_positions": 2048,
    "mlp_fc1_bias": False,
    "mlp_fc2_bias": False,
    "model_type": "nomic_bert",
    "n_embd": 32,
    "n_head": 4,
    "n_inner": 48,
    "n_layer": 2,
    "n_positions": 512,
    "pad_vocab_size_multiple": 64,
    "parallel_block": False,
    "parallel_block_tied_norm": False,
    "prenorm": False,
    "qkv_proj_bias": False,
    "reorder_and_upcast_attn": False,
    "resid_pdrop": 0.0,
    "rotary_emb_base": 1000,
    "rotary_emb_fraction": 1.0,
    "rotary_emb_interleaved": False,
    "rotary_emb_scale_base": None,
    "rotary_scaling_factor": None,
    "scale_attn_by_inverse_layer_idx": False,
    "scale_attn_weights": True,
    "summary_activation": None,
    "summary_first_dropout": 0.0,
    "summary_proj_to_labels": True,
    "summary_type": "cls_index",
    "summary_use_proj": True,
    "type_vocab_size": 2,
    "use_cache": True,
    "use_flash_attn": True,
    "use_rms_norm": False,
    "use_xentropy": True,
    "vocab_size": vocab_size(TOKENIZER),
}


class TorchNomicBert(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, inter, eps = c["n_embd"], c["n_inner"], c["layer_norm_epsilon"]
        self.c = c
        self.word = nn.Embedding(c["vocab_size"], h)
        self.token_type = nn.Embedding(c["type_vocab_size"], h)
        self.emb_ln = nn.LayerNorm(h, eps=eps)
        layers = range(c["n_layer"])
        self.wqkv = nn.ModuleList([nn.Linear(h, 3 * h, bias=False) for _ in layers])
        self.out_proj = nn.ModuleList([nn.Linear(h, h, bias=False) for _ in layers])
        self.norm1 = nn.ModuleList([nn.LayerNorm(h, eps=eps) for _ in layers])
        self.fc11 = nn.ModuleList([nn.Linear(h, inter, bias=False) for _ in layers])
        self.fc12 = nn.ModuleList([nn.Linear(h, inter, bias=False) for _ in layers])
        self.fc2 = nn.ModuleList([nn.Linear(inter, h, bias=False) for _ in layers])
        self.norm2 = nn.ModuleList([nn.LayerNorm(h, eps=eps) for _ in layers])

    def forward(self, ids, mask):
        c = self.c
        batch, length = ids.shape
        heads = c["n_head"]
        d = c["n_embd"] // heads
        x = self.emb_ln(self.word(ids) + self.token_type(torch.zeros_like(ids)))
        for i in range(c["n_layer"]):
            qkv = self.wqkv[i](x).view(batch, length, 3, heads, d).permute(2, 0, 3, 1, 4)
            q = rotary(qkv[0], c["rotary_emb_base"])
            k = rotary(qkv[1], c["rotary_emb_base"])
            scores = q @ k.transpose(-1, -2) / d ** 0.5
            scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
            context = (scores.softmax(dim=-1) @ qkv[2]).transpose(1, 2).reshape(batch, length, -1)
            x = self.norm1[i](x + self.out_proj[i](context))
            x = self.norm2[i](x + self.fc2[i](self.fc11[i](x) * F.silu(self.fc12[i](x))))
        return x


def main():
    torch.manual_seed(15)
    model = TorchNomicBert(CONFIG).eval()
    g = torch.Generator().manual_seed(20240213)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or "emb_ln" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) +
                        0.3 * torch.randn(p.shape, generator=g))
            elif name.startswith(("word", "token_type")):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    tensors = {
        "embeddings.word_embeddings.weight": model.word.weight,
        "embeddings.token_type_embeddings.weight": model.token_type.weight,
        "emb_ln.weight": model.emb_ln.weight,
        "emb_ln.bias": model.emb_ln.bias,
    }
    for i in range(CONFIG["n_layer"]):
        p = f"encoder.layers.{i}."
        tensors[p + "attn.Wqkv.weight"] = model.wqkv[i].weight
        tensors[p + "attn.out_proj.weight"] = model.out_proj[i].weight
        for norm in ("norm1", "norm2"):
            tensors[p + norm + ".weight"] = getattr(model, norm)[i].weight
            tensors[p + norm + ".bias"] = getattr(model, norm)[i].bias
        for fc in ("fc11", "fc12", "fc2"):
            tensors[p + "mlp." + fc + ".weight"] = getattr(model, fc)[i].weight
    write_folder("nomic_bert_tiny", CONFIG, tensors, TOKENIZER)
    sentences = tokenized_sentences(TOKENIZER, with_pad=False, long_ids=2)
    write_golden("nomic_bert_tiny", CONFIG, sentences, run(model.double(), sentences, 0))


if __name__ == "__main__":
    main()
