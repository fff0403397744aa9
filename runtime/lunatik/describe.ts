// `luapf check` on a Lunatik script: its API generation and the hooks it
// registered, one line each. Light (no engine import) for cli/compile.ts.
import type { LunatikInfo } from './engine.js';

export type { LunatikInfo };

export function describeLunatik(path: string, info: LunatikInfo): string {
  const lines = [`${path}: engine lua (Lunatik script, API ${info.api}: ${info.apiReason})`];
  for (const h of info.hooks) {
    if (h.xtable) {
      lines.push(`  xtable ${h.xtable}: family ${h.family} (pf ${h.pf}), hook ${h.hook} (${h.hooknum}), as a filter-table rule`);
      continue;
    }
    lines.push(`  netfilter hook: family ${h.family} (pf ${h.pf}), hook ${h.hook} (${h.hooknum}), priority ${h.priority}, mark ${h.mark}`);
  }
  if (info.xdp) lines.push('  xdp callback attached');
  return `${lines.join('\n')}\n`;
}
