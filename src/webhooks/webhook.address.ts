import dns from 'node:dns';
import net from 'node:net';

/**
 * The SSRF guard: addresses a webhook may never connect to (unless private addresses are
 * allowed, for development and tests). Checked when an endpoint is saved and again at every
 * connection, on the addresses the host resolves to then, since DNS can change in between.
 */
const refused = new net.BlockList();
const V4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b::', 96, 'NAT64'],
  ['100::', 64, 'discard'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];
for (const [address, prefix] of V4) refused.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of V6) refused.addSubnet(address, prefix, 'ipv6');

/** The IPv4 address an IPv4-mapped or -compatible IPv6 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`) carries, if it is one. */
function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const zeros = groups.slice(0, 5).every((g) => g === 0);
  if (!zeros || (groups[5] !== 0xffff && groups[5] !== 0)) return undefined;
  // ::/96 (IPv4-compatible) holds `::` and `::1` too, which the IPv6 list covers.
  if (groups[5] === 0 && (groups[6] as number) === 0) return undefined;
  const [hi, lo] = [groups[6] as number, groups[7] as number];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The eight 16-bit groups of an IPv6 address, dotted IPv4 tail included. */
function expandIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase().split('%')[0] as string;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const parts = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${(((parts[0] as number) << 8) | (parts[1] as number)).toString(16)}:${(((parts[2] as number) << 8) | (parts[3] as number)).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(Math.max(fill, 0)).fill('0'), ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** Why an IP address is refused, or undefined if a webhook may connect to it. */
export function refusedAddress(address: string): string | undefined {
  const kind = refusedKind(address);
  return kind === undefined ? undefined : `${address} is a ${kind} address`;
}

function refusedKind(address: string): string | undefined {
  const family = net.isIP(address);
  if (family === 0) return 'malformed';
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4 !== undefined) return refusedKind(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (!refused.check(address, type)) return undefined;
  const match = (family === 4 ? V4 : V6).find(([network, prefix]) => {
    const one = new net.BlockList();
    one.addSubnet(network, prefix, type);
    return one.check(address, type);
  });
  return match?.[2] ?? 'reserved';
}

/** A URL's host without IPv6 brackets. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves `host` and returns its addresses, or throws with the reason one is refused. Every
 * address must be allowed: a name that resolves to a public and a private one is refused.
 */
export async function resolveAllowed(host: string, allowPrivate: boolean): Promise<dns.LookupAddress[]> {
  const addresses = net.isIP(host) ? [{ address: host, family: net.isIP(host) }] : await dns.promises.lookup(host, { all: true, verbatim: true });
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const why = refusedAddress(address);
      if (why) throw new RefusedAddressError(`${host} resolves to ${why}`);
    }
  }
  return addresses;
}

export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
}

/**
 * A `lookup` for http.request that checks the addresses at connection time: the connection
 * goes to the address checked, not to whatever a second resolution would return.
 */
export function guardedLookup(allowPrivate: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowed(hostname, allowPrivate).then(
      (addresses) => {
        const wanted = typeof options === 'object' && options.family ? addresses.filter((a) => a.family === options.family) : addresses;
        const chosen = wanted.length > 0 ? wanted : addresses;
        if (typeof options === 'object' && options.all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, chosen);
        else callback(null, (chosen[0] as dns.LookupAddress).address, (chosen[0] as dns.LookupAddress).family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
