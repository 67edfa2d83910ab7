// A rank of run-check.test.ts: runs the start-up check with the config and code version the test gave this
// rank (CCP_DML_TEST_CONFIG_<rank>, CCP_DML_TEST_VERSION_<rank>); exits 0 when it passed, 2 with the message.
import { distributed } from '../../src/index.js';
import { isLaunchedRank, joinTestGroup } from './rank-group.js';

if (!isLaunchedRank()) process.exit(0);
const group = joinTestGroup();
const config = JSON.parse(process.env[`CCP_DML_TEST_CONFIG_${group.rank}`]!);
const version = process.env[`CCP_DML_TEST_VERSION_${group.rank}`];
try {
  distributed.checkSameRun(group, { config, ...(version ? { codeVersion: version } : {}) });
  console.log(JSON.stringify({ error: null }));
  group.destroy();
} catch (err) {
  console.log(JSON.stringify({ error: (err as Error).message }));
  process.exit(2);
}
