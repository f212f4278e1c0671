#!/usr/bin/python3
"""A tiny random-weight DistilBERT, checked like make_bert_golden.py's BERT:
the reference is torch's own modules (nn.Embedding, nn.LayerNorm,
nn.TransformerEncoderLayer, post-norm, erf GELU); DistilBERT is BERT without
token types, its weights named as DistilBertModel writes them
(transformer.layer.N.attention.q_lin..., sa_layer_norm, ffn.lin1,
output_layer_norm) and its config.json in DistilBERT's keys (dim, n_layers,
n_heads, hidden_dim, activation).

Token ids are those of tests/data/golden/bert_tiny.json (the reference BERT
tokenizer's), so the folder shares bert_tiny's vocabulary.

Writes tests/data/distilbert_tiny/ (config.json, model.safetensors) and
tests/data/golden/distilbert_tiny.json (last hidden states, float64).
Run from the repository root: tests/golden/make_distilbert_golden.py
"""
import json
import os

import torch

from make_bert_golden import DATA, TorchBert, randomize, run, save_safetensors, write_json

CONFIG = {
    "architectures": ["DistilBertModel"],
    "model_type": "distilbert",
    "vocab_size": 30522,
    "dim": 16,
    "n_layers": 2,
    "n_heads": 2,
    "hidden_dim": 40,
    "activation": "gelu",
    "max_position_embeddings": 64,
    "sinusoidal_pos_embds": False,
    "dropout": 0.1,
    "attention_dropout": 0.1,
    "pad_token_id": 0,
}


def main():
    torch.manual_seed(1)
    bert_shape = {"vocab_size": CONFIG["vocab_size"], "hidden_size": CONFIG["dim"],
                  "num_attention_heads": CONFIG["n_heads"], "intermediate_size": CONFIG["hidden_dim"],
                  "num_hidden_layers": CONFIG["n_layers"],
                  "max_position_embeddings": CONFIG["max_position_embeddings"],
                  "type_vocab_size": 1, "layer_norm_eps": 1e-12}
    model = TorchBert(bert_shape).eval()
    randomize(model)
    with torch.no_grad():
        model.token_type.weight.zero_()  # DistilBERT has no token types
    h = CONFIG["dim"]
    t = {
        "embeddings.word_embeddings.weight": model.word.weight,
        "embeddings.position_embeddings.weight": model.position.weight,
        "embeddings.LayerNorm.weight": model.norm.weight,
        "embeddings.LayerNorm.bias": model.norm.bias,
    }
    for i, layer in enumerate(model.layers):
        p = f"transformer.layer.{i}."
        att = layer.self_attn
        for k, part in enumerate(("q_lin", "k_lin", "v_lin")):
            t[p + f"attention.{part}.weight"] = att.in_proj_weight[k * h:(k + 1) * h]
            t[p + f"attention.{part}.bias"] = att.in_proj_bias[k * h:(k + 1) * h]
        t[p + "attention.out_lin.weight"] = att.out_proj.weight
        t[p + "attention.out_lin.bias"] = att.out_proj.bias
        t[p + "sa_layer_norm.weight"] = layer.norm1.weight
        t[p + "sa_layer_norm.bias"] = layer.norm1.bias
        t[p + "ffn.lin1.weight"] = layer.linear1.weight
        t[p + "ffn.lin1.bias"] = layer.linear1.bias
        t[p + "ffn.lin2.weight"] = layer.linear2.weight
        t[p + "ffn.lin2.bias"] = layer.linear2.bias
        t[p + "output_layer_norm.weight"] = layer.norm2.weight
        t[p + "output_layer_norm.bias"] = layer.norm2.bias
    folder = os.path.join(DATA, "distilbert_tiny")
    os.makedirs(folder, exist_ok=True)
    save_safetensors(os.path.join(folder, "model.safetensors"),
                     {k: v.detach().clone() for k, v in t.items()})
    write_json(os.path.join(folder, "config.json"), CONFIG)

    with open(os.path.join(DATA, "golden", "bert_tiny.json"), encoding="utf-8") as f:
        sentences = [{"ids": s["ids"]} for s in json.load(f)["sentences"]]
    states = run(model.double(), sentences)
    write_json(os.path.join(DATA, "golden", "distilbert_tiny.json"), {
        "torch": torch.__version__,
        "config": CONFIG,
        "sentences": [dict(s, hidden=h.tolist()) for s, h in zip(sentences, states)],
    })
    print(f"{len(sentences)} sentences")


if __name__ == "__main__":
    main()
