// A small builder of ONNX graphs (protobuf messages from the onnx-proto package): named float32
// initializers, nodes with attributes, one input and one output with a dynamic batch dimension.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const OPSET = 13;

export type AttributeValue = number | number[] | string | { ints: number[] } | { float: number };

function attribute(name: string, v: AttributeValue): InstanceType<typeof onnx.AttributeProto> {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: A.STRING, s: Buffer.from(v, 'utf8') });
  if (Array.isArray(v) || (typeof v === 'object' && 'ints' in v))
    return onnx.AttributeProto.create({ name, type: A.INTS, ints: Array.isArray(v) ? v : v.ints });
  if (typeof v === 'object') return onnx.AttributeProto.create({ name, type: A.FLOAT, f: v.float });
  return Number.isInteger(v) ? onnx.AttributeProto.create({ name, type: A.INT, i: v }) : onnx.AttributeProto.create({ name, type: A.FLOAT, f: v });
}

export class OnnxGraph {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name based on `hint`. */
  fresh(hint: string): string {
    let name = hint.replace(/[^A-Za-z0-9_.]/g, '_') || 'v';
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** A float32 constant (weights, normalisation constants); returns its name. */
  constant(hint: string, data: Float32Array | readonly number[], dims: readonly number[]): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const n = dims.reduce((a, b) => a * b, 1);
    if (values.length !== n) throw new Error(`onnx constant ${hint}: ${values.length} values for dims [${dims.join(', ')}]`);
    const name = this.fresh(hint);
    const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes }));
    return name;
  }

  /** An int64 constant (Gather indices, shapes). */
  int64Constant(hint: string, values: readonly number[], dims: readonly number[]): string {
    const name = this.fresh(hint);
    const buf = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(buf.buffer) }));
    return name;
  }

  /** Appends a node; returns the name of its (single) output. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttributeValue> = {}, hint = opType.toLowerCase()): string {
    const out = this.fresh(hint);
    this.nodes.push(
      onnx.NodeProto.create({ opType, input: [...inputs], output: [out], name: out, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) }),
    );
    return out;
  }

  /** Serialised ModelProto. `input` is [batch, ...fixed dims] with a symbolic batch. */
  encode(o: {
    input: { name: string; dims: readonly number[] };
    output: { name: string; value: string; dims: readonly number[] };
    metadata?: Record<string, string>;
    docString?: string;
  }): Uint8Array {
    const valueInfo = (name: string, dims: readonly number[]) =>
      onnx.ValueInfoProto.create({
        name,
        type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, ...dims.map((d) => ({ dimValue: d }))] } } },
      });
    // The graph output gets its public name through an Identity node.
    this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [o.output.value], output: [o.output.name], name: o.output.name }));
    const graph = onnx.GraphProto.create({
      name: 'ccp_dml',
      node: this.nodes,
      initializer: this.initializers,
      input: [valueInfo(o.input.name, o.input.dims)],
      output: [valueInfo(o.output.name, o.output.dims)],
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'ccp-dml',
      opsetImport: [{ domain: '', version: OPSET }],
      graph,
      docString: o.docString ?? '',
      metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
