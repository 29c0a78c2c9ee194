// Preloaded into the CiscoDevNet webex-integration-sample (NODE_OPTIONS=--require …) by bench/flow.mjs: the sample
// hard-codes https://api.ciscospark.com/v1 for its `request` calls and has no setting for the API base, so this
// wraps the `request` module and rewrites that base to BENCH_WEBEX_API_BASE (the emulator). The sample's own code
// is not changed. Nothing else is patched.
const Module = require('node:module');

const from = 'https://api.ciscospark.com/v1';
const to = process.env.BENCH_WEBEX_API_BASE;
if (!to) throw new Error('sample-shim: set BENCH_WEBEX_API_BASE');
const load = Module._load;
let wrapped;
Module._load = function (request, parent, isMain) {
  const loaded = load.call(this, request, parent, isMain);
  if (request !== 'request') return loaded;
  if (!wrapped) {
    const rewrite = (o) =>
      o && typeof o.url === 'string' && o.url.startsWith(from) ? { ...o, url: to + o.url.slice(from.length) } : o;
    wrapped = Object.assign((options, callback) => loaded(rewrite(options), callback), loaded);
  }
  return wrapped;
};
