import type { PodPlan } from './addressPlan';

/** What kube-proxy needs to know of a service. */
export interface ServiceRules {
  readonly index: number;
  readonly vip: string;
  readonly port: number;
  readonly targetPort: number;
  readonly endpoints: readonly Pick<PodPlan, 'ip'>[];
}

/**
 * iptables-restore input (for --noflush) that DNATs a service address to its endpoints the way kube-proxy's
 * iptables mode does: a chain per service, endpoint i taken with probability 1/(n-i), the last unconditionally.
 */
export function serviceChainRules(service: ServiceRules): string {
  const chain = `MB-SVC-${service.index}`;
  const lines = ['*nat', `:${chain} - [0:0]`, `-A MB-SERVICES -d ${service.vip}/32 -p tcp -m tcp --dport ${service.port} -j ${chain}`];
  const n = service.endpoints.length;
  service.endpoints.forEach((ep, i) => {
    const pick = i < n - 1 ? `-m statistic --mode random --probability ${(1 / (n - i)).toFixed(5)} ` : '';
    lines.push(`-A ${chain} -p tcp ${pick}-j DNAT --to-destination ${ep.ip}:${service.targetPort}`);
  });
  if (n === 0) lines.push(`-A ${chain} -p tcp -j REJECT --reject-with tcp-reset`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}
