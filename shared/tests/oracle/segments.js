// Oracle for praxis-sms segment counting: Twilio's sms-segments-calculator 1.3.0.
// Reads JSON lines {"text": "..."} on stdin, writes JSON lines {"encoding": "GSM-7"|"UCS-2", "segments": N}.
//
// The package is loaded from $PRAXIS_ORACLE_NODE_MODULES (a node_modules directory) or, by
// default, from node_modules next to this script. Install with:
//   npm install --prefix <dir of this script> sms-segments-calculator@1.3.0
'use strict';

const path = require('path');
const readline = require('readline');

const modulesDir = process.env.PRAXIS_ORACLE_NODE_MODULES || path.join(__dirname, 'node_modules');
let SegmentedMessage;
try {
  ({ SegmentedMessage } = require(path.join(modulesDir, 'sms-segments-calculator')));
} catch (err) {
  process.stderr.write(
    `cannot load sms-segments-calculator from ${modulesDir}: ${err.message}\n` +
      `install it with: npm install --prefix ${path.dirname(modulesDir)} sms-segments-calculator@1.3.0\n`,
  );
  process.exit(2);
}

// Written in batches: one write per line makes large corpora I/O bound.
let pending = [];
const flush = () => {
  if (pending.length > 0) {
    process.stdout.write(pending.join(''));
    pending = [];
  }
};

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line.length === 0) {
    return;
  }
  let result;
  try {
    const { text } = JSON.parse(line);
    // 'auto' encoding and smart encoding off (the package default): the product counts the text
    // exactly as given; its own smart replacement happens before counting.
    const message = new SegmentedMessage(text, 'auto', false);
    result = { encoding: message.encodingName, segments: message.segmentsCount };
  } catch (err) {
    result = { error: String(err && err.message ? err.message : err) };
  }
  pending.push(`${JSON.stringify(result)}\n`);
  if (pending.length >= 512) {
    flush();
  }
});
rl.on('close', flush);
