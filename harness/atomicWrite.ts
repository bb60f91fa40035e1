import fs from 'node:fs';
import path from 'node:path';
import { BadInputError } from './errors';

/** Fails before any work starts when an output file could not be written later. */
export function checkWritableOutput(flag: string, file: string): void {
  if (file === '-') return;
  const dir = path.dirname(path.resolve(file));
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new BadInputError(`${flag} ${file}: folder ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw new BadInputError(`${flag} ${file}: ${dir} is not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new BadInputError(`${flag} ${file}: folder ${dir} is not writable`);
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. `-` is stdout. */
export function writeFileAtomic(file: string, text: string): void {
  if (file === '-') {
    process.stdout.write(text);
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
