// `npm run reliability`: runs the reliability tests with figure collection on, and writes what they
// measured to docs/RELIABILITY.md. The tests are the proof; this page is their record.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, tmpdir} from 'node:os'
import {join} from 'node:path'

const AREAS = ['Faults', 'Bad input', 'Security']
const OUT = 'docs/RELIABILITY.md'

const dir = mkdtempSync(join(tmpdir(), 'tunnelctl-figures-'))
const figuresFile = join(dir, 'figures.jsonl')
try {
  const run = spawnSync('npx', ['vitest', 'run', 'test/reliability'], {stdio: 'inherit', env: {...process.env, RELIABILITY_FIGURES: figuresFile}})
  if (run.status !== 0) {
    console.error(`The reliability tests failed; ${OUT} is left as it was.`)
    process.exit(run.status ?? 1)
  }

  writeFileSync(OUT, render(readFigures(figuresFile)))
  console.log(`Wrote ${OUT}.`)
} finally {
  rmSync(dir, {recursive: true, force: true})
}

function readFigures(file) {
  const figures = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line, index) => ({...JSON.parse(line), index}))
  // Test files run in parallel, so lines from different files interleave; within a file they come in order.
  const fileOf = (figure) => figure.test.split(' › ')[0]
  return figures.sort((a, b) => AREAS.indexOf(a.area) - AREAS.indexOf(b.area) || fileOf(a).localeCompare(fileOf(b)) || a.index - b.index)
}

function render(figures) {
  const cell = (text) => text.replaceAll('|', '\\|').replaceAll('\n', ' ')
  const sections = AREAS.map((area) => {
    const rows = figures.filter((f) => f.area === area).map((f) => `| ${cell(f.property)} | ${cell(f.figure)} | \`${cell(f.test.split(' › ')[0])}\` |`)
    return [`## ${area}`, '', '| Property | What the test saw | Test |', '|---|---|---|', ...rows].join('\n')
  })
  const cpu = cpus()
  return [
    '# Reliability: what the tests check, and what they saw',
    '',
    'Every row is a property that an automated test under `test/reliability/` checks, failing when the',
    'property breaks; the middle column is what that test measured on its last run. Times are one run on',
    'a shared machine, for scale only: no test asserts a time (`npm run bench` measures speed).',
    'What the proxy does with each HTTP case, beside nginx and Caddy: [PROXY.md](PROXY.md).',
    '',
    `Regenerate with \`npm run reliability\` (it runs \`vitest run test/reliability\` and rewrites this file). Last run:`,
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.platform}/${process.arch}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, as ${process.getuid?.() === 0 ? 'root' : 'a regular user'}.`,
    '',
    ...sections.flatMap((section) => [section, '']),
  ].join('\n')
}
