import { describe, expect, it } from 'vitest';
import { parsePromptAttention, type PromptFragment } from '../../../src-main/engine/prompts/weighting.ts';

/** Fragments as A1111's [text, weight] pairs; a break as ['BREAK', -1] for readability. */
function pairs(prompt: string): Array<[string, number]> {
  return parsePromptAttention(prompt).map((f: PromptFragment) => (f.kind === 'text' ? [f.text, f.weight] : ['BREAK', -1]));
}

describe('parsePromptAttention — A1111 prompt_parser.py doctests', () => {
  it('plain text keeps weight 1', () => {
    expect(pairs('normal text')).toEqual([['normal text', 1]]);
  });

  it('(word) multiplies by 1.1', () => {
    expect(pairs('an (important) word')).toEqual([['an ', 1], ['important', 1.1], [' word', 1]]);
  });

  it('an unclosed ( applies to the rest of the prompt', () => {
    expect(pairs('(unbalanced')).toEqual([['unbalanced', 1.1]]);
  });

  it('escaped brackets are literal', () => {
    expect(pairs('\\(literal\\]')).toEqual([['(literal]', 1]]);
  });

  it('adjacent fragments of equal weight merge', () => {
    expect(pairs('(unnecessary)(parens)')).toEqual([['unnecessaryparens', 1.1]]);
  });

  it('nesting, explicit weights and square brackets, with A1111\'s exact floats', () => {
    expect(pairs('a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).')).toEqual([
      ['a ', 1],
      ['house', 1.5730000000000004],
      [' ', 1.1],
      ['on', 1],
      [' a ', 1.1],
      ['hill', 0.55],
      [', sun, ', 1.1],
      ['sky', 1.4641000000000006],
      ['.', 1.1],
    ]);
  });
});

describe('parsePromptAttention — further rules', () => {
  it('[word] divides by 1.1 and nests', () => {
    expect(pairs('[word]')).toEqual([['word', 0.9090909090909091]]);
    expect(pairs('[[word]]')).toEqual([['word', 0.8264462809917354]]);
  });

  it('explicit weight inside extra parentheses multiplies', () => {
    expect(pairs('((cat:1.5))')).toEqual([['cat', 1.6500000000000001]]);
    expect(pairs('(cat:0)')).toEqual([['cat', 0]]);
    expect(pairs('(cat:-1)')).toEqual([['cat', -1]]);
    expect(pairs('(cat:.5)')).toEqual([['cat', 0.5]]);
  });

  it('([x]) comes back to exactly 1 and merges with its neighbours', () => {
    expect(pairs('a ([b]) c')).toEqual([['a b c', 1]]);
  });

  it('unclosed [ applies ÷1.1 to the rest', () => {
    expect(pairs('a [b')).toEqual([['a ', 1], ['b', 0.9090909090909091]]);
  });

  it('closers with nothing open, and stray colons, are text', () => {
    expect(pairs('a) b] c')).toEqual([['a) b] c', 1]]);
    expect(pairs('word:1.3)')).toEqual([['word:1.3)', 1]]);
    expect(pairs('time: 5pm')).toEqual([['time: 5pm', 1]]);
    expect(pairs('(a:b)')).toEqual([['a:b', 1.1]]);
  });

  it('a ] does not close a ( and a ) does not close a [', () => {
    expect(pairs('(a] b')).toEqual([['a] b', 1.1]]);
  });

  it('\\\\ is a literal backslash; a lone backslash is dropped', () => {
    expect(pairs('a\\\\b')).toEqual([['a\\b', 1]]);
    expect(pairs('a \\ b')).toEqual([['a  b', 1]]);
  });

  it('escapes inside brackets take the bracket weight', () => {
    expect(pairs('(smile \\(happy\\))')).toEqual([['smile (happy)', 1.1]]);
  });

  it('a weight that is not a number stays text and leaves the bracket open', () => {
    expect(pairs('(a:1.2.3)')).toEqual([['a:1.2.3)', 1.1]]);
  });

  it('the empty prompt is one empty fragment', () => {
    expect(pairs('')).toEqual([['', 1]]);
  });
});

describe('parsePromptAttention — BREAK', () => {
  it('BREAK as a word splits, swallowing the spaces around it', () => {
    expect(pairs('a cat BREAK a dog')).toEqual([['a cat', 1], ['BREAK', -1], ['a dog', 1]]);
  });

  it('two BREAKs leave an empty fragment between them', () => {
    expect(pairs('a BREAK BREAK b')).toEqual([['a', 1], ['BREAK', -1], ['', 1], ['BREAK', -1], ['b', 1]]);
  });

  it('BREAK must be a whole upper-case word (Unicode word boundaries, as Python)', () => {
    expect(pairs('BREAKFAST break xBREAK x_BREAK 1BREAK éBREAK')).toEqual([
      ['BREAKFAST break xBREAK x_BREAK 1BREAK éBREAK', 1],
    ]);
    expect(pairs('a.BREAK.b')).toEqual([['a.', 1], ['BREAK', -1], ['.b', 1]]);
  });

  it('BREAK inside brackets stays a break and the text around it keeps the weight', () => {
    expect(pairs('(cat BREAK dog:1.5)')).toEqual([['cat', 1.5], ['BREAK', -1], ['dog', 1.5]]);
  });
});
