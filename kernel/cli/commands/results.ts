/**
 * `pertset results DIR [--readme FILE]`: the results section of the README from the results.json
 * `pertset reproduce` wrote into DIR, printed, or written between FILE's results markers.
 */
import { ConfigError } from '../../api/errors';
import { readResults, resultsMarkdown, RESULTS_END, RESULTS_START, updateReadmeResults } from '../../report/readme-results';
import { parse } from '../args';
import type { Command } from '../main';

const USAGE = `usage: pertset results DIR [--readme FILE]

The results of a \`pertset reproduce\` call (DIR/results.json, or the path of a results.json) as
Markdown: per notebook its mode, data, wall time and recorded tables, the claims tables with the
paper's claim beside ours. Printed on stdout, or with --readme written into FILE between the lines
${RESULTS_START} and ${RESULTS_END} (the rest of FILE is kept; the same results give the same file).
A missing or malformed results.json, or missing markers, is an error and FILE is left untouched.`;

export const command: Command = {
  summary: "the README's results section from a `pertset reproduce` results.json",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parse('results', argv, { readme: { type: 'string' } }, true);
    if (positionals.length !== 1) throw new ConfigError(`expected one folder (the --out of \`pertset reproduce\`) or results.json, got ${positionals.length ? positionals.join(' ') : 'none'} (see \`pertset results --help\`)`);
    const readme = values.readme as string | undefined;
    if (readme === undefined) {
      console.log(resultsMarkdown(readResults(positionals[0])));
      return 0;
    }
    const { changed } = updateReadmeResults(readme, positionals[0]);
    console.log(changed ? `${readme}: results section rewritten` : `${readme}: results section already up to date`);
    return 0;
  },
};
