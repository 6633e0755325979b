import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseNetworkText, type NetworkIssue, type NetworkModel } from '../network-model.js';

/** Reads and checks a network file (YAML or JSON); errors name the file and every bad field. */
export function readNetworkFile(path: string): { model: NetworkModel; warnings: NetworkIssue[] } {
  return parseNetworkText(readFileSync(path, 'utf8'), basename(path));
}
