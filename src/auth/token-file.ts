/**
 * @module Static bearer tokens in kube-apiserver's `--token-auth-file` format: CSV rows
 * `token,user,uid[,"group1,group2"]`, read with the rules of Go's `encoding/csv` as kube-apiserver
 * reads them (any number of fields per row, RFC 4180 quoting with `""` for a quote, no bare quotes in
 * unquoted fields, no comments, blank lines skipped, CRLF accepted). A row with fewer than three
 * columns is an error; a row with an empty token is skipped; a repeated token takes the later row;
 * the fourth column is split on commas into groups. Errors name the file and line.
 */
import { AuthConfigError, readConfigFile } from './errors.js';
import type { UserInfo } from './types.js';

/** One CSV record with the line it starts on. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: string[];
}

/** Parses CSV text as Go's `encoding/csv` does with `FieldsPerRecord = -1`; throws `Error('line N: ...')`. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const src = text.replace(/\r\n/g, '\n').replace(/\r$/, '');
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    // Empty lines are ignored.
    if (src[i] === '\n') {
      i++;
      line++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (src[i] === '"') {
        const col = i;
        i++;
        for (;;) {
          if (i >= n) throw new Error(`line ${start}: extraneous or missing " in quoted-field`);
          const c = src[i]!;
          if (c === '"') {
            if (src[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            if (i < n && src[i] !== ',' && src[i] !== '\n') {
              throw new Error(`line ${line}: extraneous or missing " in quoted-field (column ${i - col})`);
            }
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
      } else {
        while (i < n && src[i] !== ',' && src[i] !== '\n') {
          if (src[i] === '"') throw new Error(`line ${line}: bare " in non-quoted-field`);
          field += src[i];
          i++;
        }
      }
      fields.push(field);
      if (i < n && src[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (i < n && src[i] === '\n') {
      i++;
      line++;
    }
    records.push({ line: start, fields });
  }
  return records;
}

/** Token → user, from a token file. */
export type TokenTable = ReadonlyMap<string, UserInfo>;

/** Reads and parses `--token-auth-file`. */
export function loadTokenFile(file: string): TokenTable {
  const text = readConfigFile(file, '--token-auth-file').toString('utf8');
  return parseTokenCsv(text, file);
}

/** Parses the text of a token file; `file` is for messages. */
export function parseTokenCsv(text: string, file: string): TokenTable {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    throw new AuthConfigError(`token file ${file}:${(err as Error).message.replace(/^line /, '')}`);
  }
  const tokens = new Map<string, UserInfo>();
  for (const { line, fields } of records) {
    if (fields.length < 3) {
      throw new AuthConfigError(
        `token file ${file}:${line}: must have at least 3 columns (token, user name, user uid), found ${fields.length}`,
      );
    }
    const [token, name, uid, groups] = fields as [string, string, string, string | undefined];
    if (token === '') continue;
    tokens.set(token, {
      name,
      ...(uid !== '' ? { uid } : {}),
      groups: groups === undefined ? [] : groups.split(','),
      extra: {},
    });
  }
  return tokens;
}
