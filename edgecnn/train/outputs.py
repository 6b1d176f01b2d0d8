"""What a finished training run leaves in its output directory, each file written atomically."""

import json
import pathlib

from edgecnn import artifacts, atomic, extras


def save_outputs(out_dir, model, metadata, history, test_accuracy, seed):
    """model.keras, labels.txt, preprocessing.json, history.json and training_curves.png in `out_dir`."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(exist_ok=True)
    model_path = out_dir / "model.keras"
    with atomic.atomic_path(model_path) as temporary:
        model.save(temporary)
    artifacts.write_settings(out_dir, metadata)
    record = {"history": history, "test_accuracy": test_accuracy, "seed": seed,
              "epochs": len(next(iter(history.values()), []))}
    atomic.write_text(out_dir / "history.json", json.dumps(record, indent=1) + "\n")
    plot_training_curves(history, out_dir / "training_curves.png")
    return model_path


def plot_training_curves(history, path):
    """Loss and accuracy per epoch, training against validation."""
    extras.require("matplotlib", "training plots")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, 2, figsize=(9, 3.5))
    for axis, metric in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + metric in history:
                axis.plot(range(1, len(history[prefix + metric]) + 1), history[prefix + metric], style,
                          label="validation" if prefix else "training")
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.legend()
    figure.tight_layout()
    with atomic.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100)
    pyplot.close(figure)
