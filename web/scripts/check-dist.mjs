// Fails when the committed dist/ is not what the sources build to: the apiserver embeds dist/
// (go:embed), so a source change without `make web` would ship the old page.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ug-web-check-'));
try {
  execFileSync(process.execPath, [path.join(web, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: web, stdio: 'inherit' });
  const list = (dir) => fs.readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
  const built = list(tmp);
  const committed = fs.existsSync(path.join(web, 'dist')) ? list(path.join(web, 'dist')) : [];
  const problems = [];
  for (const f of built) {
    if (!committed.includes(f)) problems.push(`missing from web/dist: ${f}`);
    else if (!fs.readFileSync(path.join(tmp, f)).equals(fs.readFileSync(path.join(web, 'dist', f)))) problems.push(`differs: web/dist/${f}`);
  }
  for (const f of committed) if (!built.includes(f)) problems.push(`stale file in web/dist: ${f}`);
  if (problems.length) {
    console.error(`web/dist is stale; run \`make web\` and commit web/dist:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`web/dist is up to date (${built.length} files)`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
