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
  // access(W_OK) passes for root on folders no file can be made in (/proc, a read-only mount): create and
  // remove a file there, as the write at the end of the run will, so a run is not wasted on a path that fails.
  const probe = path.join(dir, `.meshbench-write-check.${process.pid}`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.unlinkSync(probe);
  } catch (err) {
    throw new BadInputError(`${flag} ${file}: no file can be written in folder ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new BadInputError(`${flag} ${file}: is a folder, not a file`);
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
