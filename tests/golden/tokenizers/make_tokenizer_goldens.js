#!/usr/bin/env node
// Trains small tokenizers of each kind with Hugging Face's tokenizers (npm
// package `tokenizers`, the Rust library's Node binding) on the Lee
// background corpus, saves their tokenizer.json, and writes what the library
// encodes for the golden texts: ids, tokens, offsets and special-token masks,
// without and with truncation. The C++ tokenizer (embedders/tokenizer_json.h)
// must give the same ids and offsets: tests/tokenizer_json_test.cc.
//
// Offsets are written as the Node binding reports them: [start, end) in
// Unicode code points of the text (not UTF-16 units, not bytes: "😀" at the
// start of a text is [0, 1]); the C++ tests convert them to the byte offsets
// EncodedText holds.
//
//   cd tests/golden/tokenizers && npm install && node make_tokenizer_goldens.js [--train] [name...]
//
// With names, only those goldens are written. Without --train the committed
// tokenizer.json files are encoded with again (training is not
// deterministic: the library's hash maps order ties differently each run);
// with it they are trained anew. xlmr_precompiled/tokenizer.json
// (a SentencePiece model with its Precompiled normalizer) comes from
// make_sentencepiece_tokenizer.py; this script only encodes with it.
//
// Vocabularies are cut to a few thousand entries so that the committed files
// stay small, and so that unknown words and characters occur.
const fs = require('fs');
const path = require('path');
const tk = require('tokenizers');

const data = process.env.SEMDB_SHARED_DATA || path.join(__dirname, '../../../../shared/data');
const corpus = path.join(data, 'gensim/lee_background.cor');
const out = __dirname;
const KEEP = 3000;  // vocabulary entries kept (plus specials and base alphabet)

function train(model, setup) {
  const t = new tk.Tokenizer(model);
  setup(t);
  t.train([corpus]);
  const tmp = path.join(out, '.train.json');
  t.save(tmp);
  const j = JSON.parse(fs.readFileSync(tmp, 'utf8'));
  fs.unlinkSync(tmp);
  return j;
}

function added(specials) {
  return specials.map(([content, id, extra]) => Object.assign(
      {id, content, single_word: false, lstrip: false, rstrip: false, normalized: false,
       special: true}, extra || {}));
}

// Rebuilds the library's tokenizer from `j`, sets the post-processor by its
// own API, and saves it as name/tokenizer.json.
function finish(name, j, post) {
  const t = tk.Tokenizer.fromString(JSON.stringify(j));
  if (post) t.setPostProcessor(post);
  const dir = path.join(out, name);
  fs.mkdirSync(dir, {recursive: true});
  t.save(path.join(dir, 'tokenizer.json'), true);
  return tk.Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
}

// A WordPiece tokenizer trained with `normalizer` and `preTokenizer`, its
// vocabulary cut to the special tokens then the first KEEP entries.
function wordpiece(name, normalizer, preTokenizer, specials, post) {
  const j = train(tk.WordPiece.empty(), t => {
    t.setNormalizer(normalizer);
    t.setPreTokenizer(preTokenizer);
  });
  const kept = Object.entries(j.model.vocab).sort((a, b) => a[1] - b[1]).slice(0, KEEP);
  const vocab = {};
  for (const s of specials) vocab[s] = Object.keys(vocab).length;
  for (const [tok] of kept) if (!(tok in vocab)) vocab[tok] = Object.keys(vocab).length;
  j.model.vocab = vocab;
  j.added_tokens = added(specials.map(s => [s, vocab[s]]));
  return finish(name, j, post(vocab));
}

function byteLevelBpe(name) {
  const j = train(tk.BPE.empty(), t => {
    t.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
  });
  const vocab = {};
  for (const s of ['<s>', '<pad>', '</s>', '<unk>']) vocab[s] = Object.keys(vocab).length;
  for (const c of tk.byteLevelAlphabet().sort()) vocab[c] = Object.keys(vocab).length;
  const merges = [];
  for (const m of j.model.merges) {
    if (merges.length === KEEP) break;
    const [a, b] = Array.isArray(m) ? m : m.split(' ');
    if (!(a in vocab) || !(b in vocab)) continue;
    merges.push([a, b]);
    if (!((a + b) in vocab)) vocab[a + b] = Object.keys(vocab).length;
  }
  vocab['<mask>'] = Object.keys(vocab).length;
  j.model.vocab = vocab;
  j.model.merges = merges;
  j.added_tokens = added([['<s>', 0], ['<pad>', 1], ['</s>', 2], ['<unk>', 3],
                          ['<mask>', vocab['<mask>'], {lstrip: true}]]);
  return finish(name, j, tk.robertaProcessing(['</s>', 2], ['<s>', 0], true, false));
}

function unigram(name) {
  const j = train(tk.Unigram.empty(), t => {
    t.setNormalizer(tk.nfkcNormalizer());
    t.setPreTokenizer(tk.metaspacePreTokenizer());
  });
  const singles = j.model.vocab.filter(([p]) => [...p].length === 1);
  const rest = j.model.vocab.filter(([p]) => [...p].length > 1).slice(0, KEEP);
  const specials = [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0]];
  j.model.vocab = specials.concat(singles, rest);
  j.model.unk_id = 3;
  j.added_tokens = added([['<s>', 0], ['<pad>', 1], ['</s>', 2], ['<unk>', 3]]);
  return finish(name, j, tk.templateProcessing('<s> $A </s>', '<s> $A </s> </s> $B </s>',
                                               [['<s>', 0], ['</s>', 2]]));
}

function readLines(file, n) {
  return fs.readFileSync(path.join(data, file), 'utf8').split('\n').filter(l => l.trim()).slice(0, n);
}

const edgeCases = [
  '',
  ' ',
  'Hello, world!',
  'Héllo Wörld: café, naïve façade, Ångström, résumé.',
  'İstanbul ΣΊΣΥΦΟΣ ΟΔΟΣ straße STRASSE Ǆemal ǅ',
  '中文字符测试，日本語のテキスト、한국어 텍스트。',
  '𠀀𠀁 CJK extension B and 〇 ideographic zero',
  'emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷 heart ❤️',
  'control\u0000chars\u0007in\u001btext\u200bzero\ufeffwidth\u00adsoft',
  'tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeed\u0085next',
  '   leading and trailing spaces   ',
  'multiple     inner      spaces',
  'no\u00a0break\u2003em\u3000ideographic\u2028line\u2029para',
  'combining e\u0301 a\u0308 o\u0302 n\u0303 and precomposed é ä ô ñ',
  'ligatures ﬁ ﬂ ① ＦＵＬＬＷＩＤＴＨ ｶﾀｶﾅ ㎏ ™ ½',
  'Roman Ⅻ ⅷ, superscripts x² y³, math 𝐀𝐁𝐂',
  "don't it's we're they'll I'd you've I'm DON'T",
  'numbers 1234567890 3.14159 -42 1,000,000 2024-01-01',
  'punctuation!!! ??? ... --- ((( ))) [[[ ]]] {{{ }}} @#$%^&*',
  'url https://example.com/path?q=1&r=2 and email someone@example.org',
  'a'.repeat(99) + ' ' + 'b'.repeat(100) + ' ' + 'c'.repeat(101),
  'pneumonoultramicroscopicsilicovolcanoconiosis supercalifragilisticexpialidocious',
  'x'.repeat(300),
  'special tokens [CLS] [SEP] [MASK] <s> </s> <mask> <unk> inside text',
  'glued[MASK]tokens<mask>here',
  'Arabic مرحبا بالعالم Hebrew שלום Hindi नमस्ते Thai สวัสดี',
  'Cyrillic Привет мир Greek Καλημέρα κόσμε Armenian Բարեւ',
  'private use \ue000\uf8ff unassigned \u0378 surrogate-free',
  'mixed CASE WoRdS and ALLCAPS and lowercase',
  '\u0130\u0131 dotted dotless i, \u1e9e capital sharp s, \u01c5 titlecase',
];

const texts = edgeCases.concat(readLines('gensim/lee.cor', 25), readLines('gensim/pang_lee_polarity.cor', 10));

// What SentencePiece's precompiled charsmap rewrites, by grapheme cluster
// (clusters of 6 bytes or more are looked up character by character).
const precompiledCases = [
  'ｆｕｌｌ－ｗｉｄｔｈ　ＡＳＣＩＩ！ １２３ and half-width ｶﾞｷﾞ ﾊﾟﾋﾟ',
  'e\u0301 e\u0301\u0302 e\u0301\u0302\u0303 a\u030a\u0301 \u1100\u1161\u11a8 한',
  'ZWJ 👩‍💻 🏳️‍🌈 👨‍👩‍👧‍👦 zero\u200dwidth\u200cnon-joiner',
  'controls \u0001\u0002\u0003 del\u007f c1\u0080\u0090\u009f bom\ufeff lrm\u200e rlm\u200f',
  'spaces\u00a0\u2000\u2002\u2009\u200a\u202f\u205f\u3000 and\ttab',
  '“quotes” ‘single’ «guillemets» — dash – en … ellipsis ‰ ′ ″',
  'Devanagari क्षत्रिय नमस्ते Tamil தமிழ் Bengali বাংলা',
  'ℌℑℜ ℵ ㈱ ㍻ ㋿ ﷺ ﾠ ᅠ',
  'x\u0300\u0301\u0302\u0303\u0304 stacked marks',
];

async function golden(name, t, extra = []) {
  const cases = [];
  for (const text of texts.concat(extra)) {
    const e = await t.encode(text);
    cases.push({text, ids: e.getIds(), tokens: e.getTokens(), offsets: e.getOffsets(),
                special_tokens_mask: e.getSpecialTokensMask()});
  }
  t.setTruncation(16);
  for (let i = 0; i < cases.length; ++i) {
    const e = await t.encode(cases[i].text);
    cases[i].truncated_16 = e.getIds();
    cases[i].truncated_16_offsets = e.getOffsets();
  }
  fs.writeFileSync(path.join(out, name, 'golden.json'),
                   JSON.stringify({library: 'tokenizers (npm) ' + require('tokenizers/package.json').version,
                                   cases}, null, 0) + '\n');
  console.log(name, cases.length, 'texts');
}

// The tokenizer.json of the test BERT model (tests/data/bert_tiny), as
// Hugging Face's BertTokenizerFast writes it from vocab.txt: the transformer
// embedder must run a folder that has only this file as tokenizer.
async function bertTiny() {
  const dir = path.join(__dirname, '../../data/bert_tiny');
  const model = await tk.WordPiece.fromFile(path.join(dir, 'vocab.txt'), {unkToken: '[UNK]'});
  const t = new tk.Tokenizer(model);
  t.setNormalizer(tk.bertNormalizer({lowercase: true}));
  t.setPreTokenizer(tk.bertPreTokenizer());
  t.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  t.setPostProcessor(tk.templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1',
      [['[CLS]', t.tokenToId('[CLS]')], ['[SEP]', t.tokenToId('[SEP]')]]));
  fs.mkdirSync(path.join(out, 'bert_tiny'), {recursive: true});
  t.save(path.join(out, 'bert_tiny', 'tokenizer.json'), false);
  console.log('bert_tiny tokenizer.json');
  // Its encodings are also the reference of the vocab.txt tokenizer
  // (embedders/wordpiece_tokenizer.h) where both read text alike.
  await golden('bert_tiny', tk.Tokenizer.fromFile(path.join(out, 'bert_tiny', 'tokenizer.json')));
}

const args = process.argv.slice(2);
const retrain = args.includes('--train');
const only = args.filter(a => a !== '--train');
const wanted = name => only.length === 0 || only.includes(name);
const committed = name => tk.Tokenizer.fromFile(path.join(out, name, 'tokenizer.json'));

(async () => {
  if (wanted('xlmr_precompiled')) await golden('xlmr_precompiled', committed('xlmr_precompiled'), precompiledCases);
  if (wanted('bert_tiny')) await bertTiny();
  const templ = vocab => tk.templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1',
      [['[CLS]', vocab['[CLS]']], ['[SEP]', vocab['[SEP]']]]);
  const bert = vocab => tk.bertProcessing(['[SEP]', vocab['[SEP]']], ['[CLS]', vocab['[CLS]']]);
  const bertSpecials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const trained = {
    wordpiece_uncased: () => wordpiece('wordpiece_uncased', tk.bertNormalizer({lowercase: true}),
                                       tk.bertPreTokenizer(), bertSpecials, templ),
    wordpiece_cased: () => wordpiece('wordpiece_cased', tk.bertNormalizer({lowercase: false}),
                                     tk.bertPreTokenizer(), bertSpecials, bert),
    // No [MASK]: "[MASK]" in a text is then plain text.
    wordpiece_sequence: () => wordpiece('wordpiece_sequence',
        tk.sequenceNormalizer([tk.nfdNormalizer(), tk.stripAccentsNormalizer(), tk.lowercase()]),
        tk.whitespacePreTokenizer(), ['[PAD]', '[UNK]', '[CLS]', '[SEP]'], bert),
    bpe_byte_level: () => byteLevelBpe('bpe_byte_level'),
    unigram_metaspace: () => unigram('unigram_metaspace'),
  };
  for (const [name, train] of Object.entries(trained)) {
    if (wanted(name)) await golden(name, retrain ? train() : committed(name));
  }
})();
