#!/usr/bin/env node
// Starts s3rver (the npm package) on 127.0.0.1 with a filesystem store in --dir and the
// given buckets created, then writes its port to --port-file.
'use strict';
const fs = require('fs');
const S3rver = require('s3rver');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const buckets = (args['buckets'] || '').split(',').filter(Boolean).map(name => ({ name }));
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: args['dir'], configureBuckets: buckets,
  // The SigV4 proxy in front is the strict gate; s3rver's own check would refuse the wrong-key case
  // after the proxy's secret rotates.
  allowMismatchedSignatures: true });
server.run().then(addr => fs.writeFileSync(args['port-file'], String(addr.port)),
  err => { console.error(err); process.exit(1); });
