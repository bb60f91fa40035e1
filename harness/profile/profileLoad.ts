import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { BadInputError } from '../errors';
import { checkProxyInstalled } from './proxyInstalled';
import { profileSchema, type Profile } from './profileSchema';

export interface LoadedProfile {
  readonly profile: Profile;
  readonly file: string;
  /** sha256 of the file's bytes: two runs of the same profile file carry the same hash. */
  readonly hash: string;
  readonly text: string;
}

function describePath(p: readonly PropertyKey[]): string {
  if (p.length === 0) return '(top level)';
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

/** How long a quoted value may be before its middle is cut. */
const valueChars = 48;

/**
 * The value at `p` as JSON, for "(got …)". A mapping lists first the keys the message names (`from` and `to`
 * for "expected from below to"), so a cut never hides what the message is about; a long value loses its
 * middle, not its end.
 */
function describeValue(root: unknown, p: readonly PropertyKey[], message = ''): string {
  let v: unknown = root;
  for (const k of p) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  if (v === undefined) return 'nothing';
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const named = (k: string): boolean => new RegExp(`\\b${k.replace(/[^\w-]/g, '')}\\b`).test(message);
    const keys = Object.keys(v);
    v = Object.fromEntries([...keys.filter(named), ...keys.filter((k) => !named(k))].map((k) => [k, (v as Record<string, unknown>)[k]]));
  }
  const text = JSON.stringify(v);
  if (text.length <= valueChars) return text;
  const tail = 10;
  return `${text.slice(0, valueChars - tail - 1)}…${text.slice(-tail)}`;
}

/** One problem as "path: what was expected (got …)". */
function formatIssue(issue: z.core.$ZodIssue, raw: unknown, previous?: z.core.$ZodIssue): string {
  const where = describePath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  const got = describeValue(raw, issue.path, issue.message);
  // A long message repeated for the next list item is said once ("dataplanes[2]: likewise (got …)").
  const what = previous?.message === issue.message && previous.code === issue.code ? 'likewise'
    : issue.message === 'Invalid input' && got === 'nothing' ? 'required' : issue.message.replace(/^Invalid input: /, '');
  return `${where}: ${what} (got ${got})`;
}

/** How many of the other problems the one line names before it only counts the rest. */
const otherIssuesShown = 4;

/**
 * A union whose every branch but one failed on the value's type alone (`repetitions: 3` or `{min, max,
 * until}`): the issue of the branch the value was meant for, with its full path, so an object with a bad
 * field names that field. Any other issue is returned as it is.
 */
function unionBranch(issue: z.core.$ZodIssue | undefined): z.core.$ZodIssue | undefined {
  if (issue?.code !== 'invalid_union') return issue;
  const meant = issue.errors.filter((branch) => !(branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0));
  const inner = meant.length === 1 ? meant[0]?.[0] : undefined;
  return inner === undefined ? issue : { ...inner, path: [...issue.path, ...inner.path] };
}

/**
 * One readable line: "file: path: what was expected (got …)" for the first problem, then the others in
 * brackets ("[also: path: …; path: …]"), so a user fixes a profile in one pass rather than one error per
 * run; beyond four others, only their count.
 */
export function formatProfileIssues(file: string, issues: readonly z.core.$ZodIssue[], raw: unknown): string {
  // An issue said once: the same one again says nothing new, nor does a second about one plain value (a
  // refinement failing on a value that already failed its format: "5x", then "expected a latency above 0").
  // A mapping may break two rules at once ("expected an objective", "expected from below to"): both are said.
  const seen = new Set<string>();
  const all = issues.map((i) => unionBranch(i) as z.core.$ZodIssue).filter((i) => {
    const value = describeValue(raw, i.path);
    const key = value.startsWith('{') || value.startsWith('[') ? `${describePath(i.path)}\n${i.code}\n${i.message}` : describePath(i.path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const issue = all[0];
  if (issue === undefined) return `${file}: invalid profile`;
  const others = all.slice(1);
  const shown = others.slice(0, otherIssuesShown).map((i, k) => formatIssue(i, raw, all[k]));
  const hidden = others.length - shown.length;
  if (hidden > 0) shown.push(`${hidden} more problem${hidden > 1 ? 's' : ''}`);
  const more = shown.length > 0 ? ` [also: ${shown.join('; ')}]` : '';
  return `${file}: ${formatIssue(issue, raw)}${more}`;
}

/** The path of the first key that appears twice in one mapping, walking the YAML tree. */
function findDuplicateKey(node: unknown, at: PropertyKey[]): PropertyKey[] | undefined {
  if (YAML.isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (seen.has(key)) return [...at, key];
      seen.add(key);
      const inner = findDuplicateKey(pair.value, [...at, key]);
      if (inner !== undefined) return inner;
    }
  } else if (YAML.isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const inner = findDuplicateKey(item, [...at, i]);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/** Parses and validates a profile from text; every problem is a BadInputError (exit code 2). */
export function parseProfile(text: string, file: string): Profile {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0] as YAML.YAMLError;
    const pos = e.linePos?.[0];
    const line = pos === undefined ? '' : `line ${pos.line}, column ${pos.col}: `;
    // The yaml library repeats the position in its message ("… at line 1, column 7"); the prefix has it.
    const first = (e.message.split('\n')[0] ?? 'not valid YAML').replace(/:$/, '').replace(/ at line \d+, column \d+$/, '');
    const dup = e.code === 'DUPLICATE_KEY' ? findDuplicateKey(doc.contents, []) : undefined;
    const msg = e.code === 'DUPLICATE_KEY'
      ? `${dup === undefined ? '' : `${describePath(dup)}: `}${line}duplicate key (expected each key once)`
      : `${line}${first}`;
    throw new BadInputError(`${file}: ${msg}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BadInputError(`${file}: (top level): expected a mapping of profile keys (name, dataplanes, duration, …)`);
  }
  const result = profileSchema.safeParse(raw);
  if (!result.success) throw new BadInputError(formatProfileIssues(file, result.error.issues, raw));
  return result.data;
}

/**
 * Reads, parses and validates a profile file, including what it needs of this machine that can be known
 * before anything runs (the proxy kind's binary). Every problem is a BadInputError (exit code 2).
 */
export function loadProfile(file: string): LoadedProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BadInputError(`${file}: ${code === 'ENOENT' ? 'no such profile file' : code === 'EISDIR' ? 'is a folder, not a profile' : `cannot read (${code ?? 'error'})`}`,
      `profiles are in ${path.join('profiles', '*.yaml')}`);
  }
  const profile = parseProfile(text, file);
  checkProxyInstalled(profile, file);
  return { profile, file, hash: crypto.createHash('sha256').update(text).digest('hex'), text };
}
