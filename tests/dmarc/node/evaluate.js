'use strict';
// Evaluates DMARC with mailauth for every case read (JSON) from stdin, over the in-memory
// DNS each case carries, and writes one JSON result per case to stdout, in order.
// Used by tests/dmarc/test_differential_dmarc.py; one process serves the whole batch.

const verifyDmarc = require('mailauth/lib/dmarc/verify');

const fail = code => Object.assign(new Error(code), { code });

const makeResolver = dns => {
    const txt = dns.txt || {};
    const failing = new Set(dns.failing || []);
    const names = Object.keys(txt).concat(dns.names || []);
    const exists = name => names.some(n => n === name || n.endsWith(`.${name}`));
    return async (raw, type) => {
        const name = raw.toLowerCase().replace(/\.$/, '');
        if (failing.has(name)) {
            throw fail('ESERVFAIL');
        }
        if (type === 'TXT' && txt[name]) {
            return txt[name].map(record => [record]);
        }
        throw fail(exists(name) ? 'ENODATA' : 'ENOTFOUND');
    };
};

const main = async () => {
    let input = '';
    for await (const chunk of process.stdin) {
        input += chunk;
    }
    const results = [];
    for (const item of JSON.parse(input).cases) {
        try {
            const response = await verifyDmarc({
                headerFrom: item.from,
                spfDomains: item.spf ? [item.spf] : [],
                dkimDomains: item.dkim.map(domain => ({ domain })),
                resolver: makeResolver(item.dns)
            });
            if (!response) {
                results.push({ result: null, policy: null, info: null });
                continue;
            }
            results.push({
                result: response.status.result,
                policy: (response.status.policy && response.status.policy.dmarc) || null,
                info: response.info
            });
        } catch (err) {
            results.push({ error: String(err && err.stack) });
        }
    }
    process.stdout.write(JSON.stringify(results));
};

main().catch(err => {
    process.stderr.write(String(err && err.stack));
    process.exit(1);
});
