#!/usr/bin/python3
"""Golden vectors for sentence-transformers' pooling modes and Dense module,
computed with torch from the float64 last hidden states that
make_bert_golden.py stored for tests/data/bert_tiny (so the encoder is not
re-run here):

  max, mean_sqrt_len, lasttoken   one mode each, then Normalize
  cls_mean                        cls and mean together: sentence-transformers
                                  concatenates modes in its fixed order
                                  (cls, max, mean, mean_sqrt_len, lasttoken)
  dense                           mean, then a Dense module (nn.Linear 24 -> 16
                                  with Tanh, sentence-transformers' default
                                  activation, random weights), then Normalize

Writes tests/data/dense_tiny/ (the Dense module's folder as
sentence-transformers saves it: config.json, model.safetensors with
linear.weight and linear.bias) and tests/data/golden/bert_tiny_pooling.json.
Run from the repository root: tests/golden/make_pooling_golden.py
"""
import json
import os

import torch
from torch import nn

from make_bert_golden import DATA, save_safetensors, write_json

OUT_FEATURES = 16


def pooled(hidden):
    """The sentence-transformers pooling modes of one sentence's states."""
    n = hidden.shape[0]
    return {
        "cls": hidden[0],
        "max": hidden.max(dim=0).values,
        "mean": hidden.mean(dim=0),
        "mean_sqrt_len": hidden.sum(dim=0) / torch.sqrt(torch.tensor(float(n), dtype=torch.float64)),
        "lasttoken": hidden[n - 1],
    }


def main():
    with open(os.path.join(DATA, "golden", "bert_tiny.json"), encoding="utf-8") as f:
        golden = json.load(f)
    g = torch.Generator().manual_seed(20250101)
    dense = nn.Linear(golden["config"]["hidden_size"], OUT_FEATURES)
    with torch.no_grad():
        dense.weight.copy_(torch.randn(dense.weight.shape, generator=g) * 0.4)
        dense.bias.copy_(torch.randn(dense.bias.shape, generator=g) * 0.2)
    folder = os.path.join(DATA, "dense_tiny")
    os.makedirs(folder, exist_ok=True)
    save_safetensors(os.path.join(folder, "model.safetensors"),
                     {"linear.weight": dense.weight.detach().clone(),
                      "linear.bias": dense.bias.detach().clone()})
    write_json(os.path.join(folder, "config.json"),
               {"in_features": golden["config"]["hidden_size"], "out_features": OUT_FEATURES,
                "bias": True, "activation_function": "torch.nn.modules.activation.Tanh"})
    dense = dense.double()
    act = nn.Tanh()
    normalize = lambda v: nn.functional.normalize(v, dim=0).tolist()
    sentences = []
    for s in golden["sentences"]:
        hidden = torch.tensor(s["hidden"], dtype=torch.float64)
        p = pooled(hidden)
        with torch.no_grad():
            d = act(dense(p["mean"]))
        sentences.append({
            "ids": s["ids"],
            "max": normalize(p["max"]),
            "mean_sqrt_len": normalize(p["mean_sqrt_len"]),
            "lasttoken": normalize(p["lasttoken"]),
            "cls_mean": normalize(torch.cat([p["cls"], p["mean"]])),
            "dense": normalize(d),
        })
    write_json(os.path.join(DATA, "golden", "bert_tiny_pooling.json"),
               {"torch": torch.__version__, "sentences": sentences})
    print(f"{len(sentences)} sentences")


if __name__ == "__main__":
    main()
