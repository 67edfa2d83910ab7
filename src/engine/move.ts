// Handing a tensor over to a device: the tensor itself when it is there already, else a copy there, with the
// original freed (a CPU tensor drawn or loaded only to be moved is not kept alive until the GC finds it).
import type { Tensor } from './tensor.js';

export function moveTo(t: Tensor, device: string): Tensor {
  if (t.device === device) return t;
  const moved = t.toDevice(device);
  t.dispose();
  return moved;
}
