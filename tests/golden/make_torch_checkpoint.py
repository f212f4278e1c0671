#!/usr/bin/python3
"""The weights of tests/data/xlm_roberta_tiny (model.safetensors) saved by
torch.save as a pytorch_model.bin (torch's zip + pickle checkpoint), the file
that folders without safetensors weights carry. The query, key and value
weights of each layer are slices of one fused tensor, so that several tensors
share a storage at different offsets, as checkpoints with tied or fused
weights do; names carry the "roberta." prefix of
a RobertaModel checkpoint inside a larger model. The C++
reader (embedders/torch_checkpoint.h) must give the same embeddings as the
safetensors twin: tests/transformer_embedder_test.cc.

Also writes refused_checkpoint.bin: a checkpoint whose pickle calls
os.system, which the reader must refuse without executing anything.

    /usr/bin/python3 tests/golden/make_torch_checkpoint.py
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data')
DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = collections.OrderedDict()
    for name, spec in header.items():
        if name == '__metadata__':
            continue
        a, b = spec['data_offsets']
        blob = bytearray(raw[8 + n + a:8 + n + b])
        out[name] = torch.frombuffer(blob, dtype=DTYPES[spec['dtype']]).reshape(spec['shape']).clone()
    return out


class Evil:
    def __reduce__(self):
        return (os.system, ('echo this must never run',))


def main():
    tensors = read_safetensors(os.path.join(DATA, 'xlm_roberta_tiny', 'model.safetensors'))
    state = collections.OrderedDict()
    layers = sorted({k.split('.')[2] for k in tensors if k.startswith('encoder.layer.')})
    fused = {}
    for layer in layers:
        p = 'encoder.layer.%s.attention.self.' % layer
        w = torch.cat([tensors[p + 'query.weight'], tensors[p + 'key.weight'], tensors[p + 'value.weight']])
        b = torch.cat([tensors[p + 'query.bias'], tensors[p + 'key.bias'], tensors[p + 'value.bias']])
        h = tensors[p + 'query.weight'].shape[0]
        for i, part in enumerate(['query', 'key', 'value']):
            fused[p + part + '.weight'] = w[i * h:(i + 1) * h]
            fused[p + part + '.bias'] = b[i * h:(i + 1) * h]
    for name, t in tensors.items():
        state['roberta.' + name] = fused.get(name, t)
    out = os.path.join(DATA, 'golden', 'xlm_roberta_tiny_pytorch_model.bin')
    torch.save(state, out)
    back = torch.load(out)
    assert all(torch.equal(back[k], state[k]) for k in state)
    print(out, os.path.getsize(out), 'bytes,', len(state), 'tensors')

    evil = os.path.join(DATA, 'golden', 'refused_checkpoint.bin')
    with zipfile.ZipFile(evil, 'w', zipfile.ZIP_STORED) as z:
        z.writestr('refused_checkpoint/data.pkl', pickle.dumps({'x': Evil()}, protocol=2))
        z.writestr('refused_checkpoint/version', '3\n')
    print(evil, os.path.getsize(evil), 'bytes')


if __name__ == '__main__':
    main()
