// Reads a Hugging Face cache folder with scanCacheDir of npm's
// @huggingface/hub (the Hub's own JavaScript library) and prints what it
// found as JSON: per repo its id and revisions (commit, refs, files with
// their blob names), and the library's warnings about the layout.
//   node scan_cache.mjs HUB_MODULE_DIR CACHE_DIR
import { createRequire } from "node:module";
import path from "node:path";

const [hubDir, cacheDir] = process.argv.slice(2);
const { scanCacheDir } = createRequire(import.meta.url)(hubDir);
const info = await scanCacheDir(cacheDir);
const repos = info.repos.map((r) => ({
  id: r.id,
  revisions: r.revisions.map((v) => ({
    commit: v.commitOid,
    refs: [...v.refs].sort(),
    files: v.files
      .map((f) => ({
        path: path.relative(v.path, f.path),
        blob: path.basename(f.blob.path),
        size: f.blob.size,
      }))
      .sort((a, b) => a.path.localeCompare(b.path)),
  })),
}));
console.log(JSON.stringify({ repos, warnings: info.warnings.map(String) }));
