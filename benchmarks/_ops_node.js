// One operation by the original Node client (npm docker-registry-client), for compare.py:
//   node _ops_node.js OP 'JSON'     (NODE_PATH holds the node_modules it was installed in)
// Self-timed operations print {"seconds": ...} last; every operation checks what it got.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const drc = require('docker-registry-client');

const [op, json] = process.argv.slice(2);
const a = JSON.parse(json);
const started = process.hrtime.bigint();
const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
const fail = (err) => { console.error(String(err && err.message || err)); process.exit(1); };
const client = drc.createClientV2({
  name: `${a.host}/${a.repo}`, insecure: true, scheme: 'http',
  maxSchemaVersion: 2, acceptManifestLists: true,
  log: require('bunyan').createLogger({name: 'bench', level: 'fatal'}),
});
const done = (extra) => {
  client.close();
  if (extra) console.log(JSON.stringify(extra));
};

if (op === 'tags') {
  client.listTags((err, body) => {
    if (err) return fail(err);
    if (body.tags.length !== a.count) return fail(`got ${body.tags.length} tags`);
    done();
  });
} else if (op === 'manifest' || op === 'digest' || op === 'first') {
  // No HEAD in this client: the digest comes with the GET.
  client.getManifest({ref: a.tag}, (err, manifest, res) => {
    if (err) return fail(err);
    if (manifest.schemaVersion !== 2) return fail('not a schema 2 manifest');
    if (op !== 'manifest' && !res.headers['docker-content-digest']) return fail('no digest');
    done(op === 'first' ? {seconds: seconds()} : null);
  });
} else if (op === 'push') {
  const hash = crypto.createHash('sha256');
  fs.createReadStream(a.path).on('data', (c) => hash.update(c)).on('error', fail).on('end', () => {
    const digest = `sha256:${hash.digest('hex')}`;
    const size = fs.statSync(a.path).size;
    client.blobUpload({digest, contentLength: size, stream: fs.createReadStream(a.path)},
      (err) => { if (err) return fail(err); done({seconds: seconds()}); });
  });
} else {
  fail(`no operation ${op}`);
}
