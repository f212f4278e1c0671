#!/usr/bin/python3
"""A tiny random-weight MPNet (all-mpnet-base-v2's architecture at tiny
size) built from torch's own modules, saved as a Hugging Face model folder,
with golden outputs for semdb's encoder.

MPNet is BERT without token types, with RoBERTa's positions (from
padding_idx + 1 = 2; MPNetEmbeddings fixes padding_idx at 1) and a relative
position bias: an nn.Embedding of relative_attention_num_buckets x heads,
indexed by the bucket of (key position - query position) and added to the
attention scores of every layer (one table shared by the layers). The
bucketing is written here with torch ops as MPNet defines it (half the
buckets per direction, exact below a quarter of them, logarithmic up to a
distance of 128). The layers are nn.TransformerEncoderLayer (post-norm, erf
GELU); the bias goes in as their float src_mask, which torch's attention
adds to the scores. Float64 on the saved float32 weights, one padded batch,
each sentence also alone.

Token ids: the npm `tokenizers` Unigram tokenizer's golden encodings
(tests/golden/tokenizers/unigram_metaspace, <pad> = 1 as in MPNet's
vocabulary), cut to 64 tokens (the folder's max_seq_length), plus one
sequence with a <pad> inside and two whole sequences of over 200 tokens
(514 positions, as all-mpnet-base-v2).

Writes tests/data/mpnet_tiny/ (config.json as Hugging Face writes it for
model_type mpnet, model.safetensors with MPNetModel's names and no prefix
as all-mpnet-base-v2's, tokenizer.json, sentence-transformers files) and
tests/data/golden/mpnet_tiny.json, which also holds torch's bucket of every
relative position from -600 to 600.
Run from the repository root: tests/golden/make_mpnet_golden.py
"""
import math

import torch
from torch import nn

from make_bert_golden import hf_layer_tensors, randomize, run
from make_roberta_golden import (MAX_TOKENS, PAD, padding_positions, tokenized_sentences,
                                 vocab_size, write_folder, write_golden)

TOKENIZER = "unigram_metaspace"
CONFIG = {
    "architectures": ["MPNetForMaskedLM"],
    "model_type": "mpnet",
    "vocab_size": vocab_size(TOKENIZER),
    "hidden_size": 24,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 514,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-05,
    "relative_attention_num_buckets": 32,
    "bos_token_id": 0,
    "pad_token_id": PAD,
    "eos_token_id": 2,
}


def relative_position_bucket(relative_position, num_buckets=32, max_distance=128):
    """MPNet's bucketing, in torch ops on an int64 tensor."""
    ret = 0
    n = -relative_position
    num_buckets //= 2
    ret += (n < 0).to(torch.long) * num_buckets
    n = torch.abs(n)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    val_if_large = max_exact + (
        torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) *
        (num_buckets - max_exact)).to(torch.long)
    val_if_large = torch.min(val_if_large, torch.full_like(val_if_large, num_buckets - 1))
    return ret + torch.where(is_small, n, val_if_large)


class TorchMPNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.buckets = c["relative_attention_num_buckets"]
        self.word = nn.Embedding(c["vocab_size"], h)
        self.position = nn.Embedding(c["max_position_embeddings"], h)
        self.norm = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.relative_bias = nn.Embedding(self.buckets, self.heads)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(
                h, self.heads, c["intermediate_size"], dropout=0.0, activation="gelu",
                layer_norm_eps=c["layer_norm_eps"], batch_first=True, norm_first=False)
            for _ in range(c["num_hidden_layers"])])

    def forward(self, ids, mask):
        batch, length = ids.shape
        x = self.norm(self.word(ids) + self.position(padding_positions(ids)))
        positions = torch.arange(length)
        relative = positions[None, :] - positions[:, None]  # [query, key]: key - query
        bias = self.relative_bias(relative_position_bucket(relative, self.buckets))
        bias = bias.permute(2, 0, 1)  # [heads, query, key]
        bias = bias[None].expand(batch, -1, -1, -1).reshape(batch * self.heads, length, length)
        for layer in self.layers:
            x = layer(x, src_mask=bias, src_key_padding_mask=~mask)
        return x


def main():
    torch.manual_seed(13)
    model = TorchMPNet(CONFIG).eval()
    randomize(model)
    with torch.no_grad():
        model.relative_bias.weight.copy_(torch.randn(model.relative_bias.weight.shape,
                                                     generator=torch.Generator().manual_seed(5)))
    tensors = {
        "embeddings.word_embeddings.weight": model.word.weight,
        "embeddings.position_embeddings.weight": model.position.weight,
        "embeddings.LayerNorm.weight": model.norm.weight,
        "embeddings.LayerNorm.bias": model.norm.bias,
        "encoder.relative_attention_bias.weight": model.relative_bias.weight,
        "pooler.dense.weight": torch.zeros(24, 24),
    }
    for name, t in hf_layer_tensors(model, "").items():
        # BERT's layer names to MPNet's.
        name = (name.replace("attention.self.query", "attention.attn.q")
                .replace("attention.self.key", "attention.attn.k")
                .replace("attention.self.value", "attention.attn.v")
                .replace("attention.output.dense", "attention.attn.o")
                .replace("attention.output.LayerNorm", "attention.LayerNorm"))
        tensors[name] = t
    write_folder("mpnet_tiny", CONFIG, tensors, TOKENIZER)
    sentences = tokenized_sentences(TOKENIZER, long_ids=2)
    states = run(model.double(), sentences, PAD)
    relative = torch.arange(-600, 601)
    write_golden("mpnet_tiny", CONFIG, sentences, states, extra={
        "buckets": {"relative_from": -600, "num_buckets": 32, "max_distance": 128,
                    "bucket": relative_position_bucket(relative).tolist()}})


if __name__ == "__main__":
    main()
