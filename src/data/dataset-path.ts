import { SuanwangError } from '../core/errors.js';

/** Longest relative path a dataset may hold (bytes of UTF-16 are not counted; characters are). */
export const MAX_PATH_CHARS = 1024;

/**
 * Checks a file's path inside a dataset and returns it in its one canonical spelling (`a/b.txt`).
 * Refuses, naming `field`, anything that could leave the dataset's folder or mean two things: an
 * absolute path, `..`, `.` or empty segments, backslashes, NUL and other control characters.
 */
export function datasetPath(path: string, field: string): string {
  const refuse = (why: string) =>
    new SuanwangError('invalid_field', `${field} is ${JSON.stringify(path)}: ${why}`, {
      field,
      hint: 'use a relative path inside the dataset, segments separated by "/", without "." or ".."',
    });
  if (typeof path !== 'string' || path.length === 0) throw refuse('a path may not be empty');
  if (path.length > MAX_PATH_CHARS) throw refuse(`longer than ${MAX_PATH_CHARS} characters`);
  if (/[\u0000-\u001f\u007f]/.test(path)) throw refuse('control characters are not allowed in a path');
  if (path.includes('\\')) throw refuse('a backslash is not a separator here');
  if (path.startsWith('/')) throw refuse('an absolute path lies outside the dataset');
  const segments = path.split('/');
  for (const s of segments) {
    if (s === '..') throw refuse('".." lies outside the dataset');
    if (s === '' || s === '.') throw refuse('empty and "." segments are not allowed');
  }
  return segments.join('/');
}
