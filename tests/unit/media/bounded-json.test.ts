import { describe, expect, it } from 'vitest';
import { jsonBudget, parseJsonBounded } from '../../../src-main/engine/media/bounded-json.ts';

describe('parseJsonBounded', () => {
  it('parses what fits and takes its values from the shared budget', () => {
    const budget = jsonBudget(20);
    expect(parseJsonBounded('{"a": [1, 2, 3], "b": {"c": null}}', budget)).toEqual({ value: { a: [1, 2, 3], b: { c: null } } });
    expect(budget.remaining).toBeLessThan(20);
    expect(budget.remaining).toBeGreaterThan(0);
    // The rest of the budget is all the next text of the same file gets.
    expect(parseJsonBounded(`[${'0,'.repeat(30)}0]`, budget).error).toMatch(/more values than the \d+ still allowed/);
  });

  it('refuses text that would build more values than allowed, before building any', () => {
    const objects = `[${'{},'.repeat(2_000_000)}{}]`;
    const before = process.memoryUsage().heapUsed;
    const result = parseJsonBounded(objects, jsonBudget(1_000_000));
    expect(result.error).toMatch(/more values/);
    expect(result.value).toBeUndefined();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses nesting deeper than allowed', () => {
    const deep = `${'['.repeat(300)}${']'.repeat(300)}`;
    expect(parseJsonBounded(deep, jsonBudget(10_000, 256)).error).toMatch(/nested more than 256 levels/);
    expect(parseJsonBounded(deep, jsonBudget(10_000, 512)).value).toBeInstanceOf(Array);
  });

  it('does not count brackets, commas or colons inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ prompt: `[{}, {}]: "quoted" \\ ${'{[,:'.repeat(1000)}` });
    expect(parseJsonBounded(text, jsonBudget(5)).value).toEqual(JSON.parse(text));
  });

  it('says why text is not JSON (Python writes NaN)', () => {
    expect(parseJsonBounded('{"cfg": NaN}', jsonBudget()).error).toMatch(/JSON/);
  });
});
