"""A Face-Vid2Vid-style one-shot talking-head network in torch (after Wang et al. 2021, written here).

Pipeline for a source image s and a driving image d (both (B, 3, S, S) in [0, 1]):

* ``AppearanceEncoder``: 2D convs and downsampling, then a 1x1 conv lifted to a 3D feature volume
  f_s (B, C, D, S/2^n, S/2^n) refined by 3D residual blocks.
* ``CanonicalKeypoints``: a 2D hourglass on a downscaled image lifted to 3D heatmaps; a softmax expectation
  gives K identity-specific canonical keypoints x_c (B, K, 3) in [-1, 1] (x, y, z = width, height, depth).
* ``PoseExpression``: a bottleneck ResNet giving yaw, pitch, roll as binned classifications (expectation over
  bins, degrees), a translation t (3) and K expression deltas (K, 3). Keypoints: x = R x_c + t + delta.
* ``MotionField``: per keypoint a 3D warp p -> R_s R_d^-1 (p - x_d,k) + x_s,k (the rotation plays the role of
  the keypoint Jacobian) plus the identity; the compressed source volume warped by each, with keypoint heatmap
  differences, goes through a 3D hourglass that predicts soft masks combining them into one dense 3D flow,
  and a 2D occlusion map.
* ``Generator``: the source volume warped by the flow, flattened to 2D, masked by the occlusion map, residual
  blocks and upsampling back to an RGB image.

Module and parameter names are this project's own: checkpoints from other implementations do not load without
converting their keys. Import this module only where torch is known to be installed (neural.py checks first).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...errors import InputError

FORMAT = "dreamtalk-fv2v"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FV2VConfig:
    """Sizes of every part of the network; saved in and checked against each checkpoint."""

    image_size: int = 256
    num_kp: int = 15
    # appearance feature volume
    app_channels: int = 64  # width of the first conv; doubles per down block up to app_max
    app_max: int = 512
    down_blocks: int = 2  # volume is image_size / 2**down_blocks wide
    vol_channels: int = 32  # C of the (C, D, H, W) feature volume
    vol_depth: int = 16  # D
    app_res3d: int = 6
    # canonical keypoints
    kp_scale: float = 0.25  # the detector sees the image downscaled by this
    kp_channels: int = 32
    kp_max: int = 1024
    kp_blocks: int = 5
    kp_vol_channels: int = 32
    kp_depth: int = 16
    kp_temperature: float = 0.1
    # head pose and expression
    he_stem: int = 64
    he_widths: tuple = (256, 512, 1024, 2048)
    he_blocks: tuple = (3, 3, 5, 2)
    num_bins: int = 66
    bin_degrees: float = 3.0  # bin i is the angle i * bin_degrees - num_bins * bin_degrees / 2
    # dense motion
    motion_channels: int = 32
    motion_max: int = 1024
    motion_blocks: int = 5
    motion_compress: int = 4
    mask_kernel: int = 7
    kp_variance: float = 0.01
    # generator
    gen_res: int = 6

    def __post_init__(self):
        object.__setattr__(self, "he_widths", tuple(int(w) for w in self.he_widths))
        object.__setattr__(self, "he_blocks", tuple(int(b) for b in self.he_blocks))
        self.validate()

    def validate(self) -> None:
        """Raise InputError when the sizes cannot form a network."""
        vol = self.image_size / 2 ** self.down_blocks
        kp_in = self.image_size * self.kp_scale
        checks = [
            (self.image_size >= 16 and self.image_size % 2 == 0, "image_size must be an even number >= 16"),
            (self.num_kp >= 1, "num_kp must be >= 1"),
            (vol == int(vol) and vol >= 4, "image_size must be divisible by 2**down_blocks (volume >= 4 px)"),
            (vol / 2 ** self.motion_blocks == int(vol / 2 ** self.motion_blocks),
             "the volume width must be divisible by 2**motion_blocks"),
            (kp_in == int(kp_in) and (kp_in / 2 ** self.kp_blocks) == int(kp_in / 2 ** self.kp_blocks),
             "image_size * kp_scale must be an integer divisible by 2**kp_blocks"),
            (len(self.he_widths) == len(self.he_blocks) and len(self.he_widths) >= 1
             and min(self.he_blocks) >= 1, "he_widths and he_blocks must be equally long, blocks >= 1"),
            (self.num_bins >= 2 and self.bin_degrees > 0, "num_bins >= 2 and bin_degrees > 0"),
            (self.mask_kernel % 2 == 1, "mask_kernel must be odd"),
            (self.kp_temperature > 0 and self.kp_variance > 0, "kp_temperature and kp_variance must be > 0"),
            (min(self.app_channels, self.app_max, self.vol_channels, self.vol_depth, self.kp_channels,
                 self.kp_max, self.kp_vol_channels, self.kp_depth, self.he_stem, self.motion_channels,
                 self.motion_max, self.motion_compress) >= 1 and min(self.he_widths) >= 4,
             "channel counts must be positive (he_widths >= 4)"),
        ]
        for ok, msg in checks:
            if not ok:
                raise InputError(f"invalid FV2V config: {msg}")

    @property
    def vol_size(self) -> int:
        return self.image_size // 2 ** self.down_blocks

    @property
    def gen_channels(self) -> int:
        return min(self.app_max, self.app_channels * 2 ** self.down_blocks)

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "FV2VConfig":
        """Config from a dict; unknown or badly typed fields are an InputError naming them."""
        if not isinstance(d, dict):
            raise InputError("FV2V config must be a JSON object")
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise InputError(f"FV2V config has unknown fields: {', '.join(unknown)}")
        kw = {}
        for k, v in d.items():
            default = getattr(cls, k, None) if k not in ("he_widths", "he_blocks") else ()
            try:
                if k in ("he_widths", "he_blocks"):
                    kw[k] = tuple(int(x) for x in v)
                elif isinstance(default, bool) or isinstance(v, bool):
                    raise TypeError
                elif isinstance(default, int):
                    if float(v) != int(v):
                        raise TypeError
                    kw[k] = int(v)
                else:
                    kw[k] = float(v)
            except (TypeError, ValueError):
                raise InputError(f"FV2V config field {k!r} has a bad value {v!r}") from None
        return cls(**kw)


def tiny_config() -> FV2VConfig:
    """A very small network (64x64, K=4) for tests and quick checks; untrained it draws noise-like images."""
    return FV2VConfig(image_size=64, num_kp=4, app_channels=8, app_max=16, down_blocks=2, vol_channels=4,
                      vol_depth=4, app_res3d=1, kp_scale=0.5, kp_channels=8, kp_max=16, kp_blocks=2,
                      kp_vol_channels=4, kp_depth=4, he_stem=8, he_widths=(8, 16), he_blocks=(1, 1),
                      motion_channels=8, motion_max=16, motion_blocks=2, motion_compress=2, mask_kernel=3,
                      gen_res=1)


# ---------------------------------------------------------------------------------------------- blocks
def _nd(dim: int):
    """(Conv, BatchNorm, AvgPool-kernel) for 2D or 3D; 3D pooling keeps depth (only H and W shrink)."""
    if dim == 2:
        return nn.Conv2d, nn.BatchNorm2d, (2, 2)
    return nn.Conv3d, nn.BatchNorm3d, (1, 2, 2)


class ConvBlock(nn.Module):
    """conv -> batch norm -> ReLU."""

    def __init__(self, dim: int, cin: int, cout: int, k: int = 3, stride: int = 1):
        super().__init__()
        conv, bn, _ = _nd(dim)
        self.conv = conv(cin, cout, k, stride=stride, padding=k // 2)
        self.norm = bn(cout)

    def forward(self, x):
        return F.relu(self.norm(self.conv(x)))


class ResBlock(nn.Module):
    """Pre-activation residual block with two 3x3(x3) convs, channels unchanged."""

    def __init__(self, dim: int, c: int):
        super().__init__()
        conv, bn, _ = _nd(dim)
        self.norm1, self.conv1 = bn(c), conv(c, c, 3, padding=1)
        self.norm2, self.conv2 = bn(c), conv(c, c, 3, padding=1)

    def forward(self, x):
        h = self.conv1(F.relu(self.norm1(x)))
        return x + self.conv2(F.relu(self.norm2(h)))


class Down(nn.Module):
    """ConvBlock then 2x average pooling (H, W only)."""

    def __init__(self, dim: int, cin: int, cout: int):
        super().__init__()
        self.block = ConvBlock(dim, cin, cout)
        self.pool = _nd(dim)[2]

    def forward(self, x):
        y = self.block(x)
        return F.avg_pool2d(y, self.pool) if y.dim() == 4 else F.avg_pool3d(y, self.pool)


class Up(nn.Module):
    """2x nearest upsampling (H, W only) then ConvBlock."""

    def __init__(self, dim: int, cin: int, cout: int):
        super().__init__()
        self.block = ConvBlock(dim, cin, cout)
        self.scale = _nd(dim)[2]

    def forward(self, x):
        return self.block(F.interpolate(x, scale_factor=self.scale, mode="nearest"))


class Hourglass(nn.Module):
    """U-Net encoder-decoder with skip concatenations; output has ``base + cin`` channels."""

    def __init__(self, dim: int, cin: int, base: int, cmax: int, blocks: int):
        super().__init__()
        width = [min(cmax, base * 2 ** (i + 1)) for i in range(blocks)]  # encoder output widths
        self.down = nn.ModuleList(Down(dim, cin if i == 0 else width[i - 1], width[i]) for i in range(blocks))
        ups = []
        for i in reversed(range(blocks)):
            up_in = width[i] if i == blocks - 1 else 2 * width[i]
            ups.append(Up(dim, up_in, width[i - 1] if i > 0 else base))
        self.up = nn.ModuleList(ups)
        self.out_channels = base + cin

    def forward(self, x):
        skips = [x]
        for d in self.down:
            skips.append(d(skips[-1]))
        y = skips.pop()
        for u in self.up:
            y = torch.cat([u(y), skips.pop()], dim=1)
        return y


class Bottleneck(nn.Module):
    """ResNet bottleneck (1x1, strided 3x3, 1x1) with a projected shortcut when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        mid = max(1, cout // 4)
        self.conv1, self.norm1 = nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv2, self.norm2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(mid)
        self.conv3, self.norm3 = nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)
        self.skip = None
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.norm1(self.conv1(x)))
        h = F.relu(self.norm2(self.conv2(h)))
        h = self.norm3(self.conv3(h))
        return F.relu(h + (x if self.skip is None else self.skip(x)))


# ------------------------------------------------------------------------------------------- geometry
def coordinate_grid(d: int, h: int, w: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(D, H, W, 3) grid of (x, y, z) in [-1, 1] (align_corners=True convention)."""
    z = torch.linspace(-1, 1, d, device=device, dtype=dtype) if d > 1 else torch.zeros(1, device=device, dtype=dtype)
    y = torch.linspace(-1, 1, h, device=device, dtype=dtype)
    x = torch.linspace(-1, 1, w, device=device, dtype=dtype)
    zz, yy, xx = torch.meshgrid(z, y, x, indexing="ij")
    return torch.stack([xx, yy, zz], dim=-1)


def rotation_matrix(yaw, pitch, roll) -> torch.Tensor:
    """(B, 3, 3) rotations from (B,) angles in degrees: R = Rx(pitch) Ry(yaw) Rz(roll)."""
    p, y, r = (torch.deg2rad(a) for a in (pitch, yaw, roll))
    one, zero = torch.ones_like(p), torch.zeros_like(p)
    rx = torch.stack([one, zero, zero, zero, p.cos(), -p.sin(), zero, p.sin(), p.cos()], -1).view(-1, 3, 3)
    ry = torch.stack([y.cos(), zero, y.sin(), zero, one, zero, -y.sin(), zero, y.cos()], -1).view(-1, 3, 3)
    rz = torch.stack([r.cos(), -r.sin(), zero, r.sin(), r.cos(), zero, zero, zero, one], -1).view(-1, 3, 3)
    return rx @ ry @ rz


def gaussian_heatmaps(kp: torch.Tensor, grid: torch.Tensor, variance: float) -> torch.Tensor:
    """(B, K, D, H, W) isotropic Gaussians at keypoints (B, K, 3) over a (D, H, W, 3) grid."""
    diff = grid[None, None] - kp[:, :, None, None, None, :]
    return torch.exp(-0.5 * (diff ** 2).sum(-1) / variance)


# -------------------------------------------------------------------------------------------- modules
class AppearanceEncoder(nn.Module):
    """Image -> 3D appearance feature volume (B, C, D, h, w)."""

    def __init__(self, cfg: FV2VConfig):
        super().__init__()
        self.cfg = cfg
        self.first = ConvBlock(2, 3, cfg.app_channels, k=7)
        widths = [min(cfg.app_max, cfg.app_channels * 2 ** i) for i in range(cfg.down_blocks + 1)]
        self.down = nn.ModuleList(Down(2, widths[i], widths[i + 1]) for i in range(cfg.down_blocks))
        self.to_volume = nn.Conv2d(widths[-1], cfg.vol_channels * cfg.vol_depth, 1)
        self.res = nn.Sequential(*(ResBlock(3, cfg.vol_channels) for _ in range(cfg.app_res3d)))

    def forward(self, img):
        x = self.first(img)
        for d in self.down:
            x = d(x)
        x = self.to_volume(x)
        b, _, h, w = x.shape
        return self.res(x.view(b, self.cfg.vol_channels, self.cfg.vol_depth, h, w))


class CanonicalKeypoints(nn.Module):
    """Image -> K canonical 3D keypoints (B, K, 3), the expectation of softmax heatmaps."""

    def __init__(self, cfg: FV2VConfig):
        super().__init__()
        self.cfg = cfg
        self.hourglass = Hourglass(2, 3, cfg.kp_channels, cfg.kp_max, cfg.kp_blocks)
        self.lift = nn.Conv2d(self.hourglass.out_channels, cfg.kp_vol_channels * cfg.kp_depth, 1)
        self.heat = nn.Conv3d(cfg.kp_vol_channels, cfg.num_kp, 3, padding=1)

    def forward(self, img):
        cfg = self.cfg
        if cfg.kp_scale != 1:
            img = F.interpolate(img, scale_factor=cfg.kp_scale, mode="bilinear", align_corners=False,
                                antialias=True)
        x = self.lift(self.hourglass(img))
        b, _, h, w = x.shape
        heat = self.heat(x.view(b, cfg.kp_vol_channels, cfg.kp_depth, h, w))  # (B, K, D, h, w)
        prob = F.softmax(heat.flatten(2) / cfg.kp_temperature, dim=-1)  # (B, K, D*h*w)
        grid = coordinate_grid(cfg.kp_depth, h, w, img.device, img.dtype).view(-1, 3)
        return prob @ grid  # (B, K, 3)


class PoseExpression(nn.Module):
    """Image -> yaw, pitch, roll bin logits, translation (B, 3), expression deltas (B, K, 3)."""

    def __init__(self, cfg: FV2VConfig):
        super().__init__()
        self.cfg = cfg
        self.stem = nn.Sequential(nn.Conv2d(3, cfg.he_stem, 7, stride=2, padding=3, bias=False),
                                  nn.BatchNorm2d(cfg.he_stem), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], cfg.he_stem
        for i, (w, n) in enumerate(zip(cfg.he_widths, cfg.he_blocks)):
            for j in range(n):
                layers.append(Bottleneck(cin, w, stride=2 if (i > 0 and j == 0) else 1))
                cin = w
        self.body = nn.Sequential(*layers)
        self.yaw = nn.Linear(cin, cfg.num_bins)
        self.pitch = nn.Linear(cin, cfg.num_bins)
        self.roll = nn.Linear(cin, cfg.num_bins)
        self.trans = nn.Linear(cin, 3)
        self.expr = nn.Linear(cin, 3 * cfg.num_kp)

    def forward(self, img) -> dict:
        cfg = self.cfg
        h = self.body(self.stem(img)).mean(dim=(2, 3))
        idx = torch.arange(cfg.num_bins, device=img.device, dtype=h.dtype)

        def degrees(logits):
            # Expectation over the bins: a smooth angle from a classification head.
            return (F.softmax(logits, dim=-1) * idx).sum(-1) * cfg.bin_degrees - cfg.num_bins * cfg.bin_degrees / 2
        return {"yaw": degrees(self.yaw(h)), "pitch": degrees(self.pitch(h)), "roll": degrees(self.roll(h)),
                "t": self.trans(h), "exp": self.expr(h).view(-1, cfg.num_kp, 3)}


class MotionField(nn.Module):
    """Keypoints + source volume -> dense 3D flow (B, D, h, w, 3) and occlusion map (B, 1, h, w)."""

    def __init__(self, cfg: FV2VConfig):
        super().__init__()
        self.cfg = cfg
        k1, mc = cfg.num_kp + 1, cfg.motion_compress
        self.compress = ConvBlock(3, cfg.vol_channels, mc, k=1)
        self.hourglass = Hourglass(3, k1 * (mc + 1), cfg.motion_channels, cfg.motion_max, cfg.motion_blocks)
        f = self.hourglass.out_channels
        self.mask = nn.Conv3d(f, k1, cfg.mask_kernel, padding=cfg.mask_kernel // 2)
        self.occlusion = nn.Conv2d(f * cfg.vol_depth, 1, 7, padding=3)

    def forward(self, volume, kp_s, kp_d, rot_s, rot_d):
        cfg = self.cfg
        b, _, d, h, w = volume.shape
        k = kp_s.shape[1]
        grid = coordinate_grid(d, h, w, volume.device, volume.dtype)  # (D, h, w, 3)
        # Where each driving point p comes from in the source, one candidate per keypoint (+ identity).
        m = rot_s @ rot_d.transpose(1, 2)  # (B, 3, 3)
        rel = grid[None, None] - kp_d[:, :, None, None, None, :]  # (B, K, D, h, w, 3)
        sparse = torch.einsum("bij,bkdhwj->bkdhwi", m, rel) + kp_s[:, :, None, None, None, :]
        sparse = torch.cat([grid.expand(b, 1, d, h, w, 3), sparse], dim=1)  # (B, K+1, D, h, w, 3)
        comp = self.compress(volume)  # (B, mc, D, h, w)
        mc = comp.shape[1]
        src = comp[:, None].expand(b, k + 1, mc, d, h, w).reshape(b * (k + 1), mc, d, h, w)
        warped = F.grid_sample(src, sparse.reshape(b * (k + 1), d, h, w, 3), mode="bilinear",
                               padding_mode="zeros", align_corners=True).view(b, k + 1, mc, d, h, w)
        heat = gaussian_heatmaps(kp_d, grid, cfg.kp_variance) - gaussian_heatmaps(kp_s, grid, cfg.kp_variance)
        heat = torch.cat([torch.zeros_like(heat[:, :1]), heat], dim=1)[:, :, None]  # (B, K+1, 1, D, h, w)
        feat = self.hourglass(torch.cat([heat, warped], dim=2).view(b, -1, d, h, w))
        mask = F.softmax(self.mask(feat), dim=1)  # (B, K+1, D, h, w)
        flow = (mask[..., None] * sparse).sum(1)  # (B, D, h, w, 3)
        occ = torch.sigmoid(self.occlusion(feat.reshape(b, -1, h, w)))
        return flow, occ


class Generator(nn.Module):
    """Source volume + flow + occlusion -> image (B, 3, S, S) in [0, 1]."""

    def __init__(self, cfg: FV2VConfig):
        super().__init__()
        g = cfg.gen_channels
        self.squeeze = ConvBlock(2, cfg.vol_channels * cfg.vol_depth, g, k=3)
        self.mix = nn.Conv2d(g, g, 1)
        self.res = nn.Sequential(*(ResBlock(2, g) for _ in range(cfg.gen_res)))
        ups, c = [], g
        for _ in range(cfg.down_blocks):
            ups.append(Up(2, c, max(1, c // 2)))
            c = max(1, c // 2)
        self.up = nn.Sequential(*ups)
        self.final = nn.Conv2d(c, 3, 7, padding=3)

    def forward(self, volume, flow, occ):
        warped = F.grid_sample(volume, flow, mode="bilinear", padding_mode="zeros", align_corners=True)
        b, c, d, h, w = warped.shape
        x = self.mix(self.squeeze(warped.view(b, c * d, h, w))) * occ
        return torch.sigmoid(self.final(self.up(self.res(x))))


class FaceVid2Vid(nn.Module):
    """The whole network; ``source`` once per portrait, then ``animate`` per driving frame."""

    def __init__(self, cfg: FV2VConfig):
        super().__init__()
        self.cfg = cfg
        self.appearance = AppearanceEncoder(cfg)
        self.keypoints = CanonicalKeypoints(cfg)
        self.pose = PoseExpression(cfg)
        self.motion = MotionField(cfg)
        self.generator = Generator(cfg)

    @staticmethod
    def place(kp_c, he: dict):
        """Posed keypoints (B, K, 3) and rotation (B, 3, 3): x = R x_c + t + delta."""
        rot = rotation_matrix(he["yaw"], he["pitch"], he["roll"])
        return kp_c @ rot.transpose(1, 2) + he["t"][:, None] + he["exp"], rot

    def source(self, img) -> dict:
        """Everything the source image contributes: volume, canonical keypoints, pose and expression."""
        return {"volume": self.appearance(img), "kp_c": self.keypoints(img), "he": self.pose(img)}

    def animate(self, src: dict, he_d: dict) -> torch.Tensor:
        """Image of the source with driving pose/expression ``he_d`` (absolute; see ``relative``)."""
        kp_s, rot_s = self.place(src["kp_c"], src["he"])
        kp_d, rot_d = self.place(src["kp_c"], he_d)
        flow, occ = self.motion(src["volume"], kp_s, kp_d, rot_s, rot_d)
        return self.generator(src["volume"], flow, occ)

    @staticmethod
    def relative(he_s: dict, he_d: dict, he_d0: dict) -> dict:
        """Cross-identity transfer: the source's pose/expression plus the change since the first driving frame."""
        return {k: he_s[k] + (he_d[k] - he_d0[k]) for k in he_s}

    def forward(self, source_img, driving_img):
        """Self-reenactment (training): the source animated with the driving frame's absolute pose/expression."""
        return self.animate(self.source(source_img), self.pose(driving_img))


def build_model(cfg: FV2VConfig, device=None) -> FaceVid2Vid:
    """A randomly initialised network in eval mode."""
    return FaceVid2Vid(cfg).to(device or "cpu").eval()


def expected_shapes(cfg: FV2VConfig) -> dict[str, tuple]:
    """{state_dict key: shape} of the network for ``cfg``, built on the meta device (no memory, no init)."""
    with torch.device("meta"):
        m = FaceVid2Vid(cfg)
    return {k: tuple(v.shape) for k, v in m.state_dict().items()}


def empty_model(cfg: FV2VConfig, device) -> FaceVid2Vid:
    """The network with uninitialised storage on ``device``: for loading a checked state dict into."""
    with torch.device("meta"):
        m = FaceVid2Vid(cfg)
    return m.to_empty(device=device).eval()


def count_parameters(model: nn.Module) -> int:
    """Number of learnable parameters."""
    return int(sum(p.numel() for p in model.parameters()))

