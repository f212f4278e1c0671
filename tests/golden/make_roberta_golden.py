#!/usr/bin/python3
"""Tiny random-weight RoBERTa and XLM-RoBERTa encoders built from torch's own
modules, saved as Hugging Face model folders, with golden outputs for
semdb's encoder.

RoBERTa is BERT with two differences the reference spells out with torch
ops: positions start at padding_idx + 1 (pad_token_id 1, so 2) and a
padding token inside a text takes position padding_idx and does not
advance the count (Hugging Face's create_position_ids_from_input_ids:
cumsum(ids != pad) * (ids != pad) + pad); and there is one token type
(type_vocab_size 1). The layers are nn.TransformerEncoderLayer (post-norm),
with erf GELU for RoBERTa ("gelu") and torch's tanh GELU for XLM-R
("gelu_new", F.gelu(approximate="tanh")). They run in float64 on the
float32 weights saved, on one padded batch, each sentence also alone.

Token ids are those the npm `tokenizers` library gave for the golden texts
of tests/golden/tokenizers (byte-level BPE for RoBERTa, Unigram for XLM-R),
cut to the model's 64 tokens as Hugging Face truncates (<s> ... </s>), plus
one sequence with a <pad> token inside.

Writes, under tests/data/: roberta_tiny/, xlm_roberta_tiny/ (config.json as
Hugging Face writes it for the model_type, model.safetensors with the
"roberta." prefix of RobertaForMaskedLM for RoBERTa and without it for
XLM-R, the tokenizer.json, sentence-transformers files: mean pooling,
Normalize, max_seq_length 64) and golden/roberta_tiny.json,
golden/xlm_roberta_tiny.json.
Run from the repository root: tests/golden/make_roberta_golden.py
"""
import json
import os
import shutil

import torch
import torch.nn.functional as F

from make_bert_golden import (DATA, ROOT, TorchBert, hf_tensors, randomize, run,
                              save_safetensors, write_json)

TOKENIZERS = os.path.join(ROOT, "tests", "golden", "tokenizers")
PAD = 1
MAX_TOKENS = 64


def roberta_config(model_type, vocab_size, act):
    return {
        "architectures": ["RobertaForMaskedLM" if model_type == "roberta"
                          else "XLMRobertaModel"],
        "model_type": model_type,
        "vocab_size": vocab_size,
        "hidden_size": 24,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "hidden_act": act,
        "max_position_embeddings": MAX_TOKENS + PAD + 1,
        "type_vocab_size": 1,
        "layer_norm_eps": 1e-05,
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "bos_token_id": 0,
        "pad_token_id": PAD,
        "eos_token_id": 2,
    }


def padding_positions(ids):
    """RoBERTa's and MPNet's position ids: [B, L] from [B, L] token ids."""
    real = (ids != PAD).long()
    return torch.cumsum(real, dim=1) * real + PAD


class TorchRoberta(TorchBert):
    """TorchBert with RoBERTa's positions."""

    def positions(self, ids):
        return padding_positions(ids)


def tokenized_sentences(tokenizer, max_tokens=MAX_TOKENS, with_pad=True, long_ids=0):
    """The npm tokenizers' ids of a varied quarter of the golden texts, cut to
    max_tokens as Hugging Face truncates, (with_pad) one sequence with a
    <pad> inside, and the ids of the first `long_ids` texts of over 200
    tokens, whole (longer than the attention's query blocks). Each holds
    "text" unless its ids are not that text's whole encoding at max_tokens."""
    with open(os.path.join(TOKENIZERS, tokenizer, "golden.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    sentences = []
    for case in cases[::4]:
        ids = case["ids"]
        truncated = len(ids) > max_tokens
        if truncated:
            ids = ids[:max_tokens - 1] + ids[-1:]
        sentences.append({"text": case["text"], "ids": ids, "truncated": truncated})
    if with_pad:
        ids = sentences[2]["ids"]
        sentences.append({"ids": ids[:3] + [PAD] + ids[3:], "truncated": False})
    sentences += [{"ids": case["ids"], "truncated": False}
                  for case in cases if len(case["ids"]) > 200][:long_ids]
    return sentences


def rounded(t):
    """A float64 tensor as nested lists rounded to 1e-9: far below the 1e-4
    checked, and a third of the JSON's size."""
    return torch.round(t * 1e9).div(1e9).tolist()


def golden_of(hidden):
    mean = hidden.mean(dim=0)
    return {"hidden": rounded(hidden), "mean_normalized": rounded(F.normalize(mean, dim=0))}


def write_folder(name, config, tensors, tokenizer):
    """A sentence-transformers model folder: the transformer at the top,
    mean pooling, Normalize."""
    path = os.path.join(DATA, name)
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    write_json(os.path.join(path, "config.json"), config)
    save_safetensors(os.path.join(path, "model.safetensors"),
                     {k: v.detach().clone().float() for k, v in tensors.items()})
    shutil.copyfile(os.path.join(TOKENIZERS, tokenizer, "tokenizer.json"),
                    os.path.join(path, "tokenizer.json"))
    write_json(os.path.join(path, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"}])
    write_json(os.path.join(path, "1_Pooling", "config.json"),
               {"word_embedding_dimension": config.get("hidden_size", config.get("n_embd")),
                "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
                "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False})
    write_json(os.path.join(path, "sentence_bert_config.json"),
               {"max_seq_length": MAX_TOKENS, "do_lower_case": False})


def write_golden(name, config, sentences, states, extra=None):
    write_json(os.path.join(DATA, "golden", name + ".json"), dict({
        "torch": torch.__version__,
        "config": config,
        "sentences": [dict(s, **golden_of(h)) for s, h in zip(sentences, states)],
    }, **(extra or {})))
    print(f"{name}: {len(sentences)} sentences, lengths "
          f"{sorted(len(s['ids']) for s in sentences)}")


def vocab_size(tokenizer):
    with open(os.path.join(TOKENIZERS, tokenizer, "tokenizer.json"), encoding="utf-8") as f:
        j = json.load(f)
    vocab = j["model"]["vocab"]
    ids = list(vocab.values()) if isinstance(vocab, dict) else range(len(vocab))
    return max(list(ids) + [t["id"] for t in j["added_tokens"]]) + 1


def make(name, model_type, act, tokenizer, prefix, seed):
    config = roberta_config(model_type, vocab_size(tokenizer), act)
    torch.manual_seed(seed)
    model = TorchRoberta(config).eval()
    randomize(model)
    tensors = hf_tensors(model, prefix)
    # A pooler a loader must ignore, as in real checkpoints.
    tensors[prefix + "pooler.dense.weight"] = torch.zeros(24, 24)
    write_folder(name, config, tensors, tokenizer)
    sentences = tokenized_sentences(tokenizer)
    write_golden(name, config, sentences, run(model.double(), sentences, PAD))


def main():
    make("roberta_tiny", "roberta", "gelu", "bpe_byte_level", "roberta.", 11)
    make("xlm_roberta_tiny", "xlm-roberta", "gelu_new", "unigram_metaspace", "", 12)


if __name__ == "__main__":
    main()
