// One rank of bench:dist's all-reduce throughput (ours): joins the group from the launcher's environment, sums a
// float32 buffer of argv[2] bytes argv[3] times after 2 warm-up rounds; rank 0 prints {"seconds": [...]}.
import { zeros } from '../../src/engine/index.js';
import { ProcessGroup } from '../../src/distributed/index.js';
import { nowMs } from '../common/index.js';

const [bytes, iters] = process.argv.slice(2).map(Number) as [number, number];
const group = ProcessGroup.fromEnv();
const buf = zeros([bytes / 4]).add(1);
for (let i = 0; i < 2; i++) group.allReduce(buf, 'sum');
const seconds: number[] = [];
for (let i = 0; i < iters; i++) {
  group.barrier();
  const t0 = nowMs();
  group.allReduce(buf, 'sum');
  seconds.push((nowMs() - t0) / 1000);
}
if (group.rank === 0) console.log(JSON.stringify({ seconds }));
group.destroy();
