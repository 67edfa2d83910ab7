// A rank of sync-batchnorm.test.ts: runs the shared case on this rank's half of the batch, with SyncBatchNorm
// (CCP_DML_TEST_SCENARIO=sync) or per-rank BatchNorm (plain); prints the result.
import { isLaunchedRank, joinTestGroup } from './rank-group.js';
import { runSyncBnCase } from './sync-bn-case.js';

if (!isLaunchedRank()) process.exit(0);
const group = joinTestGroup();
console.log(JSON.stringify(runSyncBnCase(group, process.env.CCP_DML_TEST_SCENARIO === 'sync')));
group.destroy();
