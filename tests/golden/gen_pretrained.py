#!/usr/bin/python3
"""Writes the golden files of tests/test_pretrained.c, test_pth.c and
test_image.c: torchvision's AlexNet and VGG16, weights saved by torch.save,
images, and the logits PyTorch computes.

Run it with Debian's Python (python3-torch, python3-torchvision, python3-pil):

    /usr/bin/python3 tests/golden/gen_pretrained.py

AlexNet's real weights are 244 MB, too big to commit, so the model here is
AlexNet with every width divided by 32 (channels 2, 6, 12, 8, 8; hidden
128; 1000 classes): torchvision's layers, names and forward, 0.19 M
parameters. SmallAlexNet(1) is checked to be torchvision's alexnet() (same
state_dict names and shapes, same repr), so the small one differs only in
its widths. Files, in tests/golden/pretrained/:

- alexnet32.pth: torch.save(model.state_dict()) of SmallAlexNet(32) after
  torch.manual_seed(0), as PyTorch writes it (a zip archive).
- alexnet32.safetensors: the same state_dict.
- vgg16_64.pth: VGG16 (configuration D) with widths divided by 64 and 10
  classes, torchvision's initialisation, after torch.manual_seed(1).
- photo.png, photo.jpg (quality 90): a generated 120 x 160 colour image.
- small_grey.png, small_rgba.png, small_palette.png, small_grey.jpg:
  32 x 24 images of other colour types.
- expected.safetensors:
    png_pixels, jpg_pixels, small_grey_png, small_rgba_png,
    small_palette_png, small_grey_jpg: PIL's decoding, convert("RGB"), as
    uint8 [3, H, W];
    alexnet.slide, alexnet.imagenet: the logits [1, 1000] of alexnet32 on
    photo.png resized (shorter side 256, bilinear, align_corners=False, no
    antialias), centre-cropped to 224 and normalised as the slide does
    (0.5 + 0.5 (x - x.mean()) / x.std()) or as ImageNet's models expect;
    alexnet.whole: the slide exactly (no resize, no crop) on photo.png;
    alexnet.jpg_slide: as alexnet.slide, from photo.jpg;
    alexnet.slide_corner: the top-left 3 x 8 x 8 of the slide's input;
    vgg.input [1, 3, 64, 64], vgg.logits [1, 10]: vgg16_64 in eval mode.
- arch.txt: for torchvision's alexnet() and vgg16(), "== NAME repr" with
  str(model), and "== NAME state" with "<name> [shape]" per state_dict
  entry, in order.
- hostile_system.pth, hostile_eval.pth: written by torch.save itself, of an
  object whose pickle calls os.system / builtins.eval (protocol 2 GLOBAL,
  and protocol 4 STACK_GLOBAL); hostile_half.pth: a float16 state_dict;
  legacy.pth: a state_dict in PyTorch's format before 1.6
  (_use_new_zipfile_serialization=False).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "pretrained")
sys.path.insert(0, HERE)
from stwriter import save as write_safetensors  # noqa: E402


def w(width, divisor):
    return (width + divisor - 1) // divisor


class SmallAlexNet(nn.Module):
    """torchvision.models.AlexNet with widths divided by `divisor`."""

    def __init__(self, divisor, num_classes=1000):
        super().__init__()
        c1, c2, c3, c4, hidden = (w(64, divisor), w(192, divisor), w(384, divisor), w(256, divisor),
                                  w(4096, divisor))
        self.features = nn.Sequential(
            nn.Conv2d(3, c1, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c4, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5), nn.Linear(c4 * 6 * 6, hidden), nn.ReLU(inplace=True),
            nn.Dropout(p=0.5), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def small_vgg16(divisor, num_classes):
    """torchvision's vgg16 (configuration D) with widths divided by divisor."""
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    cfg = [v if v == "M" else w(v, divisor) for v in cfg]
    features = torchvision.models.vgg.make_layers(cfg, batch_norm=False)
    model = torchvision.models.VGG(features, num_classes=num_classes)
    # VGG's classifier is built for 512 channels; rebuild it for fewer
    # (torchvision's layout), then redo torchvision's initialisation.
    hidden = w(4096, divisor)
    model.classifier = nn.Sequential(
        nn.Linear(cfg[-2] * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(p=0.5),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(p=0.5),
        nn.Linear(hidden, num_classes))
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.constant_(m.bias, 0)
    return model


def check_replica():
    """SmallAlexNet(1) is torchvision's AlexNet but for the class name."""
    ours, theirs = SmallAlexNet(1), torchvision.models.alexnet()
    a = [(k, tuple(v.shape)) for k, v in ours.state_dict().items()]
    b = [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert a == b, "SmallAlexNet(1) differs from torchvision's AlexNet"
    assert str(ours).replace("SmallAlexNet", "AlexNet") == str(theirs)
    assert len(list(small_vgg16(1, 1000).state_dict())) == len(torchvision.models.vgg16().state_dict())


def photo(h, w_):
    """A smooth colour image with edges (deterministic)."""
    y, x = np.mgrid[0:h, 0:w_].astype(np.float64)
    r = 128 + 100 * np.sin(x / 9.0 + y / 15.0)
    g = 128 + 90 * np.cos(x / 12.0 - y / 6.0)
    b = 128 + 80 * np.sin((x + y) / 7.0) * (x > w_ / 3)
    return np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)


def to_tensor(path):
    """PIL's decoding, as torchvision's ToTensor sees it: uint8 [3, H, W]."""
    array = np.asarray(Image.open(path).convert("RGB")).copy()
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


def prepare(pixels, resize, crop, norm):
    """profond's pf_image_prepare, in PyTorch."""
    x = pixels.float()[None] / 255
    if resize:
        h, w_ = x.shape[2:]
        size = (resize, int(resize * w_ / h)) if h <= w_ else (int(resize * h / w_), resize)
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False)
    if crop:
        h, w_ = x.shape[2:]
        top, left = int(round((h - crop) / 2.0)), int(round((w_ - crop) / 2.0))
        x = x[:, :, top:top + crop, left:left + crop]
    if norm == "slide":
        x = 0.5 + 0.5 * (x - x.mean()) / x.std()
    elif norm == "imagenet":
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        x = (x - mean) / std
    return x.contiguous()


class Evil:
    """What a hostile .pth holds: unpickling it calls func(arg)."""

    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


def write_arch(path):
    with open(path, "w") as f:
        for name, model in (("alexnet", torchvision.models.alexnet()), ("vgg16", torchvision.models.vgg16())):
            f.write(f"== {name} repr\n{model}\n== {name} state\n")
            for k, v in model.state_dict().items():
                f.write(f"{k} [{','.join(str(s) for s in v.shape)}]\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    check_replica()
    expected = []

    # Images.
    Image.fromarray(photo(120, 160)).save(os.path.join(OUT, "photo.png"), optimize=True)
    Image.fromarray(photo(120, 160)).save(os.path.join(OUT, "photo.jpg"), quality=90)
    small = photo(24, 32)
    Image.fromarray(small).convert("L").save(os.path.join(OUT, "small_grey.png"))
    rgba = np.concatenate([small, (np.arange(24 * 32).reshape(24, 32, 1) % 256).astype(np.uint8)], -1)
    Image.fromarray(rgba, "RGBA").save(os.path.join(OUT, "small_rgba.png"))
    Image.fromarray(small).quantize(16).save(os.path.join(OUT, "small_palette.png"))
    Image.fromarray(small).convert("L").save(os.path.join(OUT, "small_grey.jpg"), quality=90)
    png, jpg = to_tensor(os.path.join(OUT, "photo.png")), to_tensor(os.path.join(OUT, "photo.jpg"))
    expected += [("png_pixels", png), ("jpg_pixels", jpg)]
    for name in ("small_grey.png", "small_rgba.png", "small_palette.png", "small_grey.jpg"):
        expected.append((name.replace(".", "_"), to_tensor(os.path.join(OUT, name))))

    # AlexNet / 32.
    torch.manual_seed(0)
    alexnet = SmallAlexNet(32).eval()
    state = alexnet.state_dict()
    torch.save(state, os.path.join(OUT, "alexnet32.pth"))
    write_safetensors(os.path.join(OUT, "alexnet32.safetensors"), list(state.items()))
    with torch.no_grad():
        slide = prepare(png, 256, 224, "slide")
        expected += [
            ("alexnet.slide", alexnet(slide)),
            ("alexnet.imagenet", alexnet(prepare(png, 256, 224, "imagenet"))),
            ("alexnet.whole", alexnet(prepare(png, 0, 0, "slide"))),
            ("alexnet.jpg_slide", alexnet(prepare(jpg, 256, 224, "slide"))),
            ("alexnet.slide_corner", slide[0, :, :8, :8].contiguous()),
        ]

    # VGG16 / 64, 10 classes.
    torch.manual_seed(1)
    vgg = small_vgg16(64, 10).eval()
    torch.save(vgg.state_dict(), os.path.join(OUT, "vgg16_64.pth"))
    torch.manual_seed(2)
    vgg_input = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected += [("vgg.input", vgg_input), ("vgg.logits", vgg(vgg_input))]

    write_safetensors(os.path.join(OUT, "expected.safetensors"), expected)
    write_arch(os.path.join(OUT, "arch.txt"))

    # Hostile and unsupported files, written by torch.save itself.
    torch.save({"weight": Evil(os.system, "echo pwned")}, os.path.join(OUT, "hostile_system.pth"))
    torch.save({"weight": Evil(eval, "1+1")}, os.path.join(OUT, "hostile_eval.pth"), pickle_protocol=4)
    torch.save({"weight": torch.ones(2, 2, dtype=torch.float16)}, os.path.join(OUT, "hostile_half.pth"))
    torch.save({"weight": torch.ones(2, 2)}, os.path.join(OUT, "legacy.pth"),
               _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    main()
