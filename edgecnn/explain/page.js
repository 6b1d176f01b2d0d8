"use strict";
// edgecnn explain: draws the activations from the page's inline data and works out any clicked element in
// integers exactly as edgecnn's NumPy interpreter (and TFLite) does. 64-bit steps use BigInt. The page checks
// its own arithmetic against the interpreter's values and reports any difference with console.error.
(function () {
  const data = JSON.parse(document.getElementById("explain-data").textContent);
  const INT32_MIN = -(2n ** 31n);
  const INT32_MAX = 2n ** 31n - 1n;
  const MAX_CHANNELS_SHOWN = 16;

  // ---------------------------------------------------------------- decoding
  function bytesOf(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function halfToFloat(bits) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) return sign * fraction * 2 ** -24;
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  function typed(text, dtype) {
    const bytes = bytesOf(text);
    const buffer = bytes.buffer;
    switch (dtype) {
      case "int8": return new Int8Array(buffer);
      case "uint8": return bytes;
      case "int16": return new Int16Array(buffer);
      case "int32": return new Int32Array(buffer);
      case "float32": return new Float32Array(buffer);
      case "float16": return Float32Array.from(new Uint16Array(buffer), halfToFloat);
      default: throw new Error("unknown dtype " + dtype);
    }
  }

  const tensors = {};
  for (const [index, tensor] of Object.entries(data.tensors)) {
    tensors[index] = Object.assign({}, tensor, { values: typed(tensor.data, tensor.dtype) });
  }
  const layers = data.layers.map((layer) => {
    const decoded = Object.assign({}, layer);
    if (layer.weight_data) decoded.weightValues = typed(layer.weight_data, "int8");
    if (layer.keras && layer.keras.data) decoded.floatValues = typed(layer.keras.data, "float16");
    return decoded;
  });
  const layerByOp = {};
  for (const layer of layers) layerByOp[layer.op_index] = layer;

  // ---------------------------------------------------------------- integer arithmetic (arithmetic.py)
  function roundHalfAwayFromZero(value) {
    const magnitude = Math.floor(Math.abs(value) + 0.5);
    return magnitude === 0 ? 0 : Math.sign(value) * magnitude;
  }
  function frexp(value) {
    // value = fraction * 2^exponent with |fraction| in [0.5, 1), read off the IEEE-754 exponent bits.
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value);
    let biased = (view.getUint16(0) >>> 4) & 0x7ff;
    let scaled = value;
    let adjust = 0;
    if (biased === 0) {  // subnormal: scale into the normal range first
      scaled = value * 2 ** 64;
      view.setFloat64(0, scaled);
      biased = (view.getUint16(0) >>> 4) & 0x7ff;
      adjust = -64;
    }
    const exponent = biased - 1022;
    return [scaled / 2 ** exponent, exponent + adjust];
  }
  function quantizeMultiplier(real) {
    // TFLite QuantizeMultiplier: real = M * 2^(shift - 31), M in [2^30, 2^31).
    if (real === 0) return { fraction: 0, exponent: 0, multiplier: 0, shift: 0 };
    const [fraction, exponent] = frexp(real);
    let multiplier = roundHalfAwayFromZero(fraction * 2 ** 31);
    let shift = exponent;
    if (multiplier === 2 ** 31) { multiplier /= 2; shift += 1; }
    if (shift < -31) { multiplier = 0; shift = 0; }
    return { fraction, exponent, multiplier, shift };
  }
  function saturatingRoundingDoublingHighMul(a, b) {
    if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
    return (a * b + (1n << 30n)) >> 31n;  // BigInt >> floors, as Python's does
  }
  function roundingDivideByPowerOfTwo(x, exponent) {
    const e = BigInt(exponent);
    const mask = (1n << e) - 1n;
    const remainder = x & mask;
    const threshold = (mask >> 1n) + (x < 0n ? 1n : 0n);
    return { remainder, threshold, value: (x >> e) + (remainder > threshold ? 1n : 0n) };
  }
  function activationRange(activation, scale, zeroPoint) {
    // zp + roundf(float32(f) / float32(scale)): float32 division is the double one rounded to float32.
    const quantize = (value) => zeroPoint + roundHalfAwayFromZero(Math.fround(Math.fround(value) / Math.fround(scale)));
    switch (activation) {
      case "RELU": return [Math.max(-128, quantize(0)), 127];
      case "RELU6": return [Math.max(-128, quantize(0)), Math.min(127, quantize(6))];
      case "RELU_N1_TO_1": return [Math.max(-128, quantize(-1)), Math.min(127, quantize(1))];
      default: return [-128, 127];
    }
  }
  function floatActivation(value, activation) {
    if (activation === "RELU" || activation === "RELU6") value = Math.max(value, 0);
    if (activation === "RELU6") value = Math.min(value, 6);
    if (activation === "RELU_N1_TO_1") value = Math.min(Math.max(value, -1), 1);
    return value;
  }

  function valueAt(tensor, y, x, c) {
    const shape = tensor.shape;
    if (shape.length === 4) return tensor.values[(y * shape[2] + x) * shape[3] + c];
    return tensor.values[c];
  }
  function elementIndex(tensor, y, x, c) {
    const shape = tensor.shape;
    return shape.length === 4 ? (y * shape[2] + x) * shape[3] + c : c;
  }

  // The requantization every weighted op ends with: MBQM(acc), + zero point, clamp. Fills `work`.
  function requantize(work, accumulator, real, activation, outputZeroPoint, outputScale) {
    const { fraction, exponent, multiplier, shift } = quantizeMultiplier(real);
    const leftShift = Math.max(shift, 0);
    const rightShift = Math.max(-shift, 0);
    const shifted = BigInt(accumulator) << BigInt(leftShift);
    const wide = shifted * BigInt(multiplier);
    const high = saturatingRoundingDoublingHighMul(shifted, BigInt(multiplier));
    const rounding = roundingDivideByPowerOfTwo(high, rightShift);
    const scaled = Number(rounding.value);
    const [low, highLimit] = activationRange(activation, outputScale, outputZeroPoint);
    Object.assign(work, {
      real_multiplier: real, fraction, exponent, multiplier, shift, left_shift: leftShift,
      right_shift: rightShift, shifted: Number(shifted), wide_product: wide.toString(), high: Number(high),
      remainder: Number(rounding.remainder), threshold: Number(rounding.threshold),
      round_up: rounding.remainder > rounding.threshold, scaled, with_zero_point: scaled + outputZeroPoint,
      activation, clamp: [low, highLimit],
      output: Math.min(Math.max(scaled + outputZeroPoint, low), highLimit),
      exact_scaled: accumulator * real,
    });
    return work;
  }

  function finishFloat(work, layer, floatSum, floatBias, outputScale, outputZeroPoint) {
    const activated = floatActivation(floatSum + floatBias, work.activation);
    const inLsb = outputZeroPoint + activated / outputScale;
    work.float = {
      sum: floatSum, bias: floatBias, value: floatSum + floatBias, activated, in_lsb: inLsb,
      difference_lsb: work.output - inLsb, dequantized_output: outputScale * (work.output - outputZeroPoint),
    };
  }

  function keras(work, layer, index, outputScale, outputZeroPoint) {
    work.keras = null;
    if (layer.floatValues) {
      const value = layer.floatValues[index];
      const inLsb = outputZeroPoint + value / outputScale;
      work.keras = { value, in_lsb: inLsb, difference_lsb: work.output - inLsb };
    }
  }

  // CONV_2D and DEPTHWISE_CONV_2D: the same steps as working.py's worked_example.
  function workConvolution(layer, y, x, c) {
    const input = tensors[layer.inputs[0]];
    const output = tensors[layer.output];
    const [, height, width, depth] = input.shape;
    const outChannels = output.shape[3];
    const [kernelH, kernelW] = layer.kernel;
    const weightShape = layer.weights.shape;
    const inputScale = input.scale, inputZeroPoint = input.zero_point;
    const outputScale = output.scale, outputZeroPoint = output.zero_point;
    const filterScale = layer.weight_scales.length > 1 ? layer.weight_scales[c] : layer.weight_scales[0];
    let inputChannels;
    if (layer.op === "CONV_2D") {
      const filterDepth = weightShape[3];
      const group = Math.floor(c / (outChannels / (depth / filterDepth)));
      inputChannels = Array.from({ length: filterDepth }, (_, i) => group * filterDepth + i);
    } else {
      inputChannels = [Math.floor(c / (outChannels / depth))];
    }
    const originY = y * layer.stride[0] - layer.pads[0];
    const originX = x * layer.stride[1] - layer.pads[2];
    const taps = [];
    let sumOfProducts = 0;
    let floatSum = 0;
    for (let ky = 0; ky < kernelH; ky++) {
      for (let kx = 0; kx < kernelW; kx++) {
        const iy = originY + ky * layer.dilation[0];
        const ix = originX + kx * layer.dilation[1];
        const inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
        inputChannels.forEach((inputChannel, position) => {
          const weight = layer.op === "CONV_2D"
            ? layer.weightValues[((c * kernelH + ky) * kernelW + kx) * weightShape[3] + position]
            : layer.weightValues[(ky * kernelW + kx) * outChannels + c];
          const q = inside ? input.values[(iy * width + ix) * depth + inputChannel] : null;
          const centered = inside ? q - inputZeroPoint : 0;
          const product = weight * centered;
          taps.push({ ky, kx, input_channel: inputChannel, iy, ix, inside, q, centered, weight, product });
          sumOfProducts += product;
          if (inside) floatSum += inputScale * centered * filterScale * weight;
        });
      }
    }
    const bias = layer.bias_values ? layer.bias_values[c] : 0;
    const accumulator = sumOfProducts + bias;
    const work = {
      op_index: layer.op_index, op: layer.op, layer: layer.name, y, x, channel: c,
      input_scale: inputScale, input_zero_point: inputZeroPoint, filter_scale: filterScale,
      filter_zero_point: 0, output_scale: outputScale, output_zero_point: outputZeroPoint,
      window_origin: [originY, originX], input_channels: inputChannels, taps,
      sum_of_products: sumOfProducts, bias, accumulator,
    };
    requantize(work, accumulator, inputScale * filterScale / outputScale, layer.activation, outputZeroPoint,
      outputScale);
    work.interpreter_output = valueAt(output, y, x, c);
    finishFloat(work, layer, floatSum, inputScale * filterScale * bias, outputScale, outputZeroPoint);
    keras(work, layer, elementIndex(output, y, x, c), outputScale, outputZeroPoint);
    return work;
  }

  // FULLY_CONNECTED, as kernels_conv.fully_connected for the page's interpreter flavor.
  function workFullyConnected(layer, unit) {
    const input = tensors[layer.inputs[0]];
    const output = tensors[layer.output];
    const [, depth] = layer.weights.shape;
    const perChannel = layer.weight_scales.length > 1;
    const filterScale = perChannel ? layer.weight_scales[unit] : layer.weight_scales[0];
    const weightOffset = perChannel ? 0 : -layer.weight_zero_points[0];
    const inputScale = input.scale, inputZeroPoint = input.zero_point;
    const outputScale = output.scale, outputZeroPoint = output.zero_point;
    const taps = [];
    let sumOfProducts = 0;
    let floatSum = 0;
    for (let k = 0; k < depth; k++) {
      const q = input.values[k];
      const weight = layer.weightValues[unit * depth + k] + weightOffset;
      const centered = q - inputZeroPoint;
      taps.push({ k, q, centered, weight, product: weight * centered, inside: true });
      sumOfProducts += weight * centered;
      floatSum += inputScale * centered * filterScale * weight;
    }
    const bias = layer.bias_values ? layer.bias_values[unit] : 0;
    const accumulator = sumOfProducts + bias;
    const work = {
      op_index: layer.op_index, op: layer.op, layer: layer.name, y: 0, x: 0, channel: unit,
      input_scale: inputScale, input_zero_point: inputZeroPoint, filter_scale: filterScale,
      output_scale: outputScale, output_zero_point: outputZeroPoint, taps, sum_of_products: sumOfProducts,
      bias, accumulator, flavor: data.interpreter_flavor,
    };
    if (data.interpreter_flavor === "tflite") {
      // TFLite's reference FULLY_CONNECTED requantizes in double, rounding half away from zero.
      const real = inputScale * filterScale / outputScale;
      const scaled = accumulator * real;
      const truncated = Math.trunc(scaled);
      const rounded = truncated + Math.sign(scaled) * (Math.abs(scaled - truncated) >= 0.5 ? 1 : 0);
      const [low, highLimit] = activationRange(layer.activation, outputScale, outputZeroPoint);
      Object.assign(work, {
        real_multiplier: real, double_rounding: true, scaled: rounded, exact_scaled: scaled,
        with_zero_point: rounded + outputZeroPoint, activation: layer.activation, clamp: [low, highLimit],
        output: Math.min(Math.max(rounded + outputZeroPoint, low), highLimit),
      });
    } else {
      // TFLite Micro: the per-tensor multiplier is float32(s_in * s_w) / s_out, then MBQM.
      const real = perChannel ? inputScale * filterScale / outputScale
        : Math.fround(inputScale * filterScale) / outputScale;
      requantize(work, accumulator, real, layer.activation, outputZeroPoint, outputScale);
    }
    work.interpreter_output = output.values[unit];
    finishFloat(work, layer, floatSum, inputScale * filterScale * bias, outputScale, outputZeroPoint);
    keras(work, layer, unit, outputScale, outputZeroPoint);
    return work;
  }

  // MAX_POOL_2D and AVERAGE_POOL_2D over the in-bounds part of the window (padding is never counted).
  function workPool(layer, y, x, c) {
    const input = tensors[layer.inputs[0]];
    const output = tensors[layer.output];
    const [, height, width, depth] = input.shape;
    const originY = y * layer.stride[0] - layer.pads[0];
    const originX = x * layer.stride[1] - layer.pads[2];
    const taps = [];
    for (let ky = 0; ky < layer.kernel[0]; ky++) {
      for (let kx = 0; kx < layer.kernel[1]; kx++) {
        const iy = originY + ky, ix = originX + kx;
        const inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
        taps.push({ ky, kx, iy, ix, inside, q: inside ? input.values[(iy * width + ix) * depth + c] : null });
      }
    }
    const values = taps.filter((tap) => tap.inside).map((tap) => tap.q);
    const [low, highLimit] = activationRange(layer.activation, output.scale, output.zero_point);
    const work = { op_index: layer.op_index, op: layer.op, layer: layer.name, y, x, channel: c, taps,
      activation: layer.activation, clamp: [low, highLimit] };
    if (layer.op === "MAX_POOL_2D") {
      work.scaled = Math.max(...values);
    } else {
      const total = values.reduce((sum, value) => sum + value, 0);
      const count = values.length;
      const half = Math.floor(count / 2);
      // C's integer division truncates: (total + n/2) / n for positive totals, (total - n/2) / n otherwise.
      work.total = total;
      work.count = count;
      work.scaled = total > 0 ? Math.trunc((total + half) / count) : Math.trunc((total - half) / count);
    }
    work.output = Math.min(Math.max(work.scaled, low), highLimit);
    work.interpreter_output = valueAt(output, y, x, c);
    return work;
  }

  function work(opIndex, y, x, c) {
    const layer = layerByOp[opIndex];
    if (!layer) throw new Error("no op " + opIndex);
    if (layer.op === "CONV_2D" || layer.op === "DEPTHWISE_CONV_2D") return workConvolution(layer, y, x, c);
    if (layer.op === "FULLY_CONNECTED") return workFullyConnected(layer, c);
    if (layer.op === "MAX_POOL_2D" || layer.op === "AVERAGE_POOL_2D") return workPool(layer, y, x, c);
    return null;
  }

  // Every element of a layer worked out again: how many differ from the interpreter's values.
  function checkLayer(opIndex) {
    const layer = layerByOp[opIndex];
    const output = tensors[layer.output];
    const shape = output.shape;
    const [height, width, channels] = shape.length === 4 ? shape.slice(1) : [1, 1, shape[shape.length - 1]];
    let checked = 0, mismatched = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) {
          const result = work(opIndex, y, x, c);
          if (result === null) return { checked, mismatched, supported: false };
          checked++;
          if (result.output !== result.interpreter_output) mismatched++;
        }
      }
    }
    return { checked, mismatched, supported: true };
  }

  // ---------------------------------------------------------------- drawing
  function colour(value, limit) {
    // Diverging: blue below zero, white at zero, red above, by |value| / limit.
    const t = limit > 0 ? Math.max(-1, Math.min(1, value / limit)) : 0;
    const [r, g, b] = t >= 0 ? [178, 24, 43] : [33, 102, 172];
    const a = Math.abs(t);
    return [255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a];
  }
  function realValues(tensor) {
    if (tensor.dtype === "float32") return Float32Array.from(tensor.values);
    return Float32Array.from(tensor.values, (q) => tensor.scale * (q - tensor.zero_point));
  }
  function mapGeometry(tensor) {
    const shape = tensor.shape;
    if (shape.length === 4) return { height: shape[1], width: shape[2], channels: shape[3], flat: false };
    const count = shape[shape.length - 1];
    const width = Math.min(count, 32);
    return { height: Math.ceil(count / width), width, channels: 1, flat: true, count };
  }
  function drawChannel(canvas, values, geometry, channel, limit) {
    canvas.width = geometry.width;
    canvas.height = geometry.height;
    const context = canvas.getContext("2d");
    const image = context.createImageData(geometry.width, geometry.height);
    for (let y = 0; y < geometry.height; y++) {
      for (let x = 0; x < geometry.width; x++) {
        const pixel = (y * geometry.width + x) * 4;
        const index = geometry.flat ? y * geometry.width + x : (y * geometry.width + x) * geometry.channels + channel;
        if (geometry.flat && index >= geometry.count) { image.data[pixel + 3] = 0; continue; }
        const [r, g, b] = colour(values[index], limit);
        image.data.set([r, g, b, 255], pixel);
      }
    }
    context.putImageData(image, 0, 0);
  }
  function maxAbs(values) {
    let limit = 0;
    for (const value of values) limit = Math.max(limit, Math.abs(value));
    return limit;
  }

  let selection = null;
  function drawMaps(container, opKey) {
    const layer = opKey === "input" ? null : layerByOp[opKey];
    const tensorIndex = layer ? layer.output : data.inputs[0].index;
    const tensor = tensors[tensorIndex];
    const geometry = mapGeometry(tensor);
    const values = realValues(tensor);
    const floats = layer && layer.floatValues;
    const limit = Math.max(maxAbs(values), floats ? maxAbs(floats) : 0);
    const zoom = Math.max(1, Math.min(4, Math.floor(64 / Math.max(geometry.height, geometry.width))));
    for (let channel = 0; channel < geometry.channels; channel++) {
      const figure = document.createElement("figure");
      figure.className = "map";
      const rows = [["int8", values]].concat(floats ? [["float", floats]] : []);
      for (const [kind, source] of rows) {
        const canvas = document.createElement("canvas");
        canvas.className = kind;
        drawChannel(canvas, source, geometry, channel, limit);
        canvas.style.width = geometry.width * zoom + "px";
        canvas.style.height = geometry.height * zoom + "px";
        canvas.title = `${kind} channel ${channel}: click a pixel for its working`;
        canvas.addEventListener("click", (event) => {
          const x = Math.min(geometry.width - 1, Math.floor(event.offsetX / canvas.clientWidth * geometry.width));
          const y = Math.min(geometry.height - 1, Math.floor(event.offsetY / canvas.clientHeight * geometry.height));
          if (geometry.flat) select(opKey, 0, 0, y * geometry.width + x);
          else select(opKey, y, x, channel);
        });
        figure.appendChild(canvas);
      }
      figure.dataset.channel = String(channel);
      const caption = document.createElement("figcaption");
      caption.textContent = geometry.flat ? `${geometry.count} values` : `c${channel}`;
      figure.appendChild(caption);
      container.appendChild(figure);
    }
    if (floats) {
      const legend = document.createElement("p");
      legend.className = "legend";
      legend.textContent = "Top: int8 (dequantized). Below: float Keras. Same colour scale, blue < 0 < red.";
      container.appendChild(legend);
    }
  }

  function drawArenaMap() {
    const canvas = document.getElementById("arena-map");
    if (!canvas) return;
    const context = canvas.getContext("2d");
    const entries = data.memory.tensors;
    const arena = Math.max(1, data.memory.greedy_arena_bytes);
    const ops = Math.max(1, data.layers.length);
    const columnWidth = canvas.width / ops;
    context.fillStyle = "#f4f4f4";
    context.fillRect(0, 0, canvas.width, canvas.height);
    for (const entry of entries) {
      const selected = selection && selection.tensor === entry.index;
      context.fillStyle = selected ? "#e67e22" : "#4a7ab5";
      const top = entry.offset / arena * canvas.height;
      const height = Math.max(1, entry.bytes / arena * canvas.height);
      context.fillRect(entry.first_op * columnWidth + 1, top, (entry.last_op - entry.first_op + 1) * columnWidth - 2, height);
    }
  }

  // ---------------------------------------------------------------- the working panel
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(value, digits = 6) {
    if (value === null || value === undefined) return "-";
    if (typeof value === "number" && !Number.isInteger(value)) return Number(value.toPrecision(digits)).toString();
    return String(value);
  }
  function minusZeroPoint(name, zeroPoint) {
    return zeroPoint < 0 ? `${name} + ${-zeroPoint}` : `${name} − ${zeroPoint}`;
  }
  function grid(rows, cellClass) {
    const table = element("table", "grid");
    for (const row of rows) {
      const tr = element("tr");
      for (const cell of row) {
        const td = element("td", cell === null ? "pad" : cellClass, cell === null ? "pad" : String(cell));
        tr.appendChild(td);
      }
      table.appendChild(tr);
    }
    return table;
  }
  function steps(list) {
    const ol = element("ol", "steps");
    for (const [label, value] of list) {
      const li = element("li");
      li.appendChild(element("span", "label", label));
      li.appendChild(element("code", "", value));
      ol.appendChild(li);
    }
    return ol;
  }
  function convolutionWindows(result, layer) {
    const box = element("div", "windows");
    const [kernelH, kernelW] = layer.kernel;
    const shown = result.input_channels.slice(0, MAX_CHANNELS_SHOWN);
    for (const inputChannel of shown) {
      const taps = result.taps.filter((tap) => tap.input_channel === inputChannel);
      const reshape = (pick) => Array.from({ length: kernelH }, (_, ky) =>
        Array.from({ length: kernelW }, (_, kx) => pick(taps[ky * kernelW + kx])));
      const part = element("div", "window");
      const partial = taps.reduce((sum, tap) => sum + tap.product, 0);
      part.appendChild(element("div", "caption", `input channel ${inputChannel}: q, w, w·(${minusZeroPoint("q", result.input_zero_point)})`));
      part.appendChild(grid(reshape((tap) => (tap.inside ? tap.q : null)), "q"));
      part.appendChild(grid(reshape((tap) => tap.weight), "w"));
      part.appendChild(grid(reshape((tap) => (tap.inside ? tap.product : null)), "p"));
      part.appendChild(element("div", "caption", `partial sum ${partial}`));
      box.appendChild(part);
    }
    if (result.input_channels.length > shown.length) {
      const rest = result.input_channels.slice(shown.length).map((inputChannel) =>
        result.taps.filter((tap) => tap.input_channel === inputChannel).reduce((sum, tap) => sum + tap.product, 0));
      box.appendChild(element("p", "note", `${rest.length} more input channels, partial sums: ${rest.join(", ")}`));
    }
    return box;
  }
  function requantizeSteps(result) {
    const list = [
      ["int32 accumulator = sum + bias", `${result.sum_of_products} + ${result.bias} = ${result.accumulator}`],
    ];
    if (result.double_rounding) {
      list.push(["real multiplier s_in·s_w/s_out", `${fmt(result.input_scale)} × ${fmt(result.filter_scale)} / ${fmt(result.output_scale)} = ${fmt(result.real_multiplier, 9)}`]);
      list.push(["accumulator × multiplier, in double", `${fmt(result.exact_scaled, 9)} → rounded half away from zero = ${result.scaled}`]);
    } else {
      list.push(["real multiplier s_in·s_w/s_out", `${fmt(result.input_scale)} × ${fmt(result.filter_scale)} / ${fmt(result.output_scale)} = ${fmt(result.real_multiplier, 9)}`]);
      list.push(["as fraction × 2^exponent (frexp)", `${fmt(result.fraction, 12)} × 2^${result.exponent}`]);
      list.push(["M = round(fraction × 2^31), shift", `M = ${result.multiplier}, shift = ${result.shift} (multiplier = M × 2^(shift − 31))`]);
      if (result.left_shift) list.push(["accumulator × 2^left shift", `${result.accumulator} × 2^${result.left_shift} = ${result.shifted}`]);
      list.push(["high = (x·M + 2^30) >> 31 (SRDHM)", `(${result.wide_product} + 1073741824) >> 31 = ${result.high}`]);
      list.push([`rounding divide by 2^${result.right_shift}`, `${result.high} >> ${result.right_shift}, remainder ${result.remainder} ${result.round_up ? ">" : "≤"} ${result.threshold}: ${result.round_up ? "round up" : "keep"} → ${result.scaled}`]);
      list.push(["exact value before rounding", `${result.accumulator} × ${fmt(result.real_multiplier, 9)} = ${fmt(result.exact_scaled, 9)}`]);
    }
    list.push(["+ output zero point", `${result.scaled} + ${result.output_zero_point} = ${result.with_zero_point}`]);
    list.push([`clamp (${result.activation})`, `[${result.clamp[0]}, ${result.clamp[1]}] → ${result.output}`]);
    return list;
  }
  function renderWorking(result, layer, y, x, c) {
    const panel = document.getElementById("working");
    panel.textContent = "";
    const tensor = tensors[layer ? layer.output : data.inputs[0].index];
    const q = valueAt(tensor, y, x, c);
    const where = tensor.shape.length === 4 ? `y=${y}, x=${x}, c=${c}` : `element ${c}`;
    panel.appendChild(element("h3", "", `${layer ? "op " + layer.op_index + " " + layer.op + " · " + layer.name : "input"}: ${where}`));
    const real = tensor.dtype === "float32" ? q : tensor.scale * (q - tensor.zero_point);
    panel.appendChild(element("p", "", tensor.dtype === "float32" ? `float input ${fmt(q)}`
      : `${tensor.dtype} value ${q} = ${fmt(tensor.scale)} × (${minusZeroPoint(String(q), tensor.zero_point)}) = ${fmt(real)}`));
    if (layer && layer.floatValues) {
      panel.appendChild(element("p", "", `float Keras value ${fmt(layer.floatValues[elementIndex(tensor, y, x, c)])}`));
    }
    if (!result) {
      panel.appendChild(element("p", "note", layer ? `The page works out CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and pooling; ${layer.op} shows its value only.`
        : tensor.dtype === "float32" ? "The model's float input: the preprocessed image, which its QUANTIZE op makes int8."
          : "The model's input: the image, preprocessed and quantized."));
      return;
    }
    if (result.op === "MAX_POOL_2D" || result.op === "AVERAGE_POOL_2D") {
      const rows = Array.from({ length: layer.kernel[0] }, (_, ky) => Array.from({ length: layer.kernel[1] },
        (_, kx) => { const tap = result.taps[ky * layer.kernel[1] + kx]; return tap.inside ? tap.q : null; }));
      panel.appendChild(element("div", "caption", `window at input (${result.taps[0].iy}, ${result.taps[0].ix}), channel ${c}`));
      panel.appendChild(grid(rows, "q"));
      const list = result.op === "MAX_POOL_2D" ? [["max of the window", String(result.scaled)]]
        : [["sum of the window", `${result.total} over ${result.count} values`],
          ["(sum ± n/2) / n, C division", String(result.scaled)]];
      list.push([`clamp (${result.activation})`, `[${result.clamp[0]}, ${result.clamp[1]}] → ${result.output}`]);
      panel.appendChild(steps(list));
    } else {
      if (result.op === "FULLY_CONNECTED") {
        const shown = result.taps.slice(0, 24).map((tap) => `${tap.weight}·(${minusZeroPoint(String(tap.q), result.input_zero_point)})`);
        panel.appendChild(element("p", "caption", `${result.taps.length} products w·(${minusZeroPoint("q", result.input_zero_point)}), the first: ${shown.join(" + ")}${result.taps.length > 24 ? " + …" : ""}`));
      } else {
        panel.appendChild(element("p", "caption", `Window at input (${result.window_origin[0]}, ${result.window_origin[1]}), kernel ${layer.kernel.join("x")}, ${result.taps.filter((tap) => !tap.inside).length} taps in padding (they hold the zero point and add nothing).`));
        panel.appendChild(convolutionWindows(result, layer));
        panel.appendChild(element("p", "legend", "Grey: the input window q (int8); green: the kernel w (int8, zero point 0); purple: the products w·(q − zp_in), exact in int32."));
      }
      panel.appendChild(steps([["sum of products", String(result.sum_of_products)]].concat(requantizeSteps(result))));
      const float = result.float;
      const floatList = [
        ["float: Σ dequantized x·w + bias", `${fmt(float.sum)} + ${fmt(float.bias)} = ${fmt(float.value)}`],
        [`after ${result.activation}`, fmt(float.activated)],
        ["in output LSB: value / s_out + zp_out", `${fmt(float.in_lsb, 8)}: int8 differs by ${fmt(float.difference_lsb, 4)} LSB`],
      ];
      if (result.keras) floatList.push(["float Keras model", `${fmt(result.keras.value)} = ${fmt(result.keras.in_lsb, 8)} LSB: int8 differs by ${fmt(result.keras.difference_lsb, 4)} LSB (errors of earlier layers included)`]);
      panel.appendChild(steps(floatList));
    }
    const agree = result.output === result.interpreter_output;
    panel.appendChild(element("p", agree ? "verdict good" : "verdict bad",
      agree ? `= ${result.interpreter_output}, the interpreter's value.` : `≠ ${result.interpreter_output}, the interpreter's value: the page's arithmetic is wrong.`));
  }

  function select(opKey, y, x, c) {
    const layer = opKey === "input" ? null : layerByOp[opKey];
    const result = layer ? work(layer.op_index, y, x, c) : null;
    selection = { tensor: layer ? layer.output : data.inputs[0].index };
    for (const figure of document.querySelectorAll(".map.selected")) figure.classList.remove("selected");
    const container = document.querySelector(`.maps[data-layer="${opKey}"]`);
    const flat = tensors[selection.tensor].shape.length !== 4;
    const figure = container && container.querySelector(`.map[data-channel="${flat ? 0 : c}"]`);
    if (figure) figure.classList.add("selected");
    renderWorking(result, layer, y, x, c);
    drawArenaMap();
    if (result && result.output !== result.interpreter_output) {
      console.error(`explain: op ${layer.op_index} (${y}, ${x}, ${c}) works out to ${result.output}, the interpreter gave ${result.interpreter_output}`);
    }
    return result;
  }

  // The integers the page computes for the worked example must be Python's, to the last bit.
  const INTEGER_FIELDS = ["sum_of_products", "bias", "accumulator", "multiplier", "shift", "left_shift",
    "right_shift", "shifted", "wide_product", "high", "remainder", "threshold", "scaled", "with_zero_point",
    "output", "interpreter_output"];
  function compareWithPython(example) {
    const result = work(example.op_index, example.y, example.x, example.channel);
    const differences = INTEGER_FIELDS.filter((field) => String(result[field]) !== String(example[field]));
    if (String(result.clamp) !== String(example.clamp)) differences.push("clamp");
    if (result.taps.length !== example.taps.length
        || result.taps.some((tap, i) => tap.product !== example.taps[i].product || tap.q !== example.taps[i].q)) {
      differences.push("taps");
    }
    return differences;
  }

  function start() {
    for (const container of document.querySelectorAll(".maps")) drawMaps(container, container.dataset.layer);
    const example = data.example;
    const differences = compareWithPython(example);
    if (differences.length) {
      console.error(`explain: the page's worked example differs from Python's in ${differences.join(", ")}`);
    }
    select(example.op_index, example.y, example.x, example.channel);
  }

  window.edgecnnExplain = { data, work, checkLayer, compareWithPython, select, quantizeMultiplier };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
