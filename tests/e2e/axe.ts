/**
 * axe-core in the page under test: injected through the DevTools protocol (the page's CSP allows
 * only its own scripts, which is right for the app and no reason to weaken it for a test), run on
 * the whole document, its violations returned as lines a failing assertion can print.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT } from './support.ts';

const AXE_SOURCE = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

interface AxeNode {
  readonly target: readonly string[];
  readonly failureSummary?: string;
}
interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly AxeNode[];
}

/** Every axe violation on the page as it is now, one line each (rule, impact, element, what to fix); empty when none. */
export async function axeViolations(page: Page): Promise<string[]> {
  if (await page.evaluate("typeof window.axe === 'undefined'")) await page.evaluate(`${AXE_SOURCE}\n;0`);
  const result = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as { violations: readonly AxeViolation[] };
  return result.violations.flatMap((v) =>
    v.nodes.map((n) => `${v.id} (${v.impact ?? 'no impact'}): ${n.target.join(' ')} — ${v.help}. ${(n.failureSummary ?? '').replace(/\s+/g, ' ').trim()}`),
  );
}
