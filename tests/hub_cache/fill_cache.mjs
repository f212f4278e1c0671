// Downloads a model into a Hugging Face cache folder with snapshotDownload of
// npm's @huggingface/hub (the Hub's own JavaScript library), as a user's
// tools would have filled it; prints the snapshot folder.
//   node fill_cache.mjs HUB_MODULE_DIR HUB_URL REPO CACHE_DIR
import { createRequire } from "node:module";

const [hubDir, hubUrl, repo, cacheDir] = process.argv.slice(2);
const { snapshotDownload } = createRequire(import.meta.url)(hubDir);
console.log(await snapshotDownload({ repo, hubUrl, cacheDir }));
