#!/usr/bin/python3
"""Trains a small SentencePiece Unigram model (Google's sentencepiece, Debian's
python3-sentencepiece) with its default nmt_nfkc normalization rule on the Lee
background corpus, and converts it to the tokenizer.json that Hugging Face's
XLM-RoBERTa converter (transformers' XLMRobertaConverter) writes for real
XLM-R and multilingual-e5 models: a Precompiled normalizer carrying the
model's precompiled_charsmap, then Replace(" {2,}" -> " "), a Metaspace
pre-tokenizer, the Unigram model with the fairseq special tokens, and the
<s> $A </s> template.

    /usr/bin/python3 make_sentencepiece_tokenizer.py
    node make_tokenizer_goldens.js xlmr_precompiled   # the goldens, from npm tokenizers

Writes xlmr_precompiled/tokenizer.json next to this script.
"""
import base64
import io
import json
import os
import sys

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get('SEMDB_SHARED_DATA', os.path.join(HERE, '../../../../shared/data'))
VOCAB = 3000


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def fields(buf):
    """(field number, wire type, value) of a serialized protobuf message;
    length-delimited values as bytes."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError('unexpected wire type %d' % wire)
        yield number, wire, value


def main():
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        input=os.path.join(DATA, 'gensim/lee_background.cor'), model_writer=model,
        vocab_size=VOCAB, model_type='unigram', normalization_rule_name='nmt_nfkc',
        character_coverage=1.0, num_threads=1, minloglevel=2)
    proto = model.getvalue()
    sp = spm.SentencePieceProcessor(model_proto=proto)
    # ModelProto.normalizer_spec (3) . precompiled_charsmap (2)
    charsmap = None
    for number, _, value in fields(proto):
        if number == 3:
            for n, _, v in fields(value):
                if n == 2:
                    charsmap = v
    if not charsmap:
        sys.exit('the model has no precompiled_charsmap')
    # sentencepiece's ids 0-2 are <unk> <s> </s>; XLM-R (fairseq) orders
    # <s> <pad> </s> <unk> first, then the pieces, then <mask>.
    pieces = [[sp.id_to_piece(i), sp.get_score(i)] for i in range(3, sp.get_piece_size())]
    vocab = [['<s>', 0.0], ['<pad>', 0.0], ['</s>', 0.0], ['<unk>', 0.0]] + pieces + [['<mask>', 0.0]]
    specials = [('<s>', 0), ('<pad>', 1), ('</s>', 2), ('<unk>', 3), ('<mask>', len(vocab) - 1)]
    tokenizer = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [{'id': i, 'content': c, 'single_word': False, 'lstrip': c == '<mask>',
                          'rstrip': False, 'normalized': False, 'special': True}
                         for c, i in specials],
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'Precompiled', 'precompiled_charsmap': base64.b64encode(charsmap).decode()},
            {'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '}]},
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always',
                          'split': True},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '<s>', 'type_id': 0}},
                       {'Sequence': {'id': 'A', 'type_id': 0}},
                       {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': '<s>', 'type_id': 0}},
                     {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': '</s>', 'type_id': 0}},
                     {'SpecialToken': {'id': '</s>', 'type_id': 0}},
                     {'Sequence': {'id': 'B', 'type_id': 0}},
                     {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
            'special_tokens': {'<s>': {'id': '<s>', 'ids': [0], 'tokens': ['<s>']},
                               '</s>': {'id': '</s>', 'ids': [2], 'tokens': ['</s>']}}},
        'decoder': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always',
                    'split': True},
        'model': {'type': 'Unigram', 'unk_id': 3, 'vocab': vocab, 'byte_fallback': False},
    }
    out = os.path.join(HERE, 'xlmr_precompiled')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tokenizer, f, ensure_ascii=False)
        f.write('\n')
    print('xlmr_precompiled: %d pieces, charsmap %d bytes' % (len(vocab), len(charsmap)))


if __name__ == '__main__':
    main()
