"""LivePortrait-compatible networks in torch, written here; parameter names and shapes follow the published
checkpoints (KwaiVGI/LivePortrait, ``src/config/models.yaml``), so its five ``.pth`` files load as published.

* ``AppearanceFeatureExtractor`` (F): image (B, 3, H, W) -> feature volume (B, 32, 16, H/4, W/4).
* ``MotionExtractor`` (M): a ConvNeXtV2-tiny giving canonical keypoints, pitch/yaw/roll bin logits (66 bins of
  3 degrees), translation, expression deltas and scale of 21 implicit 3D keypoints.
* ``WarpingNetwork`` (W): a 3D hourglass predicts a dense flow from source and driving keypoints; the warped
  volume is flattened to 2D features (B, 256, H/4, W/4), masked by an occlusion map.
* ``SPADEDecoder`` (G): SPADE residual blocks (spectrally normalised convs) decode those features to RGB at
  2x the input size (256 -> 512).
* ``StitchingRetargeting`` (S, R): three MLPs. Stitching keeps the animated crop aligned with the shoulders;
  lip and eye retargeting move keypoints to a wanted lip-open / eye-open ratio.

Keypoints live in a right-down-into-the-screen frame; posed keypoints are
``scale * (canonical @ R + exp) + (tx, ty, 0)`` with ``R`` a row-vector rotation (``rotation_rows``). A driving
rotation since rest acts in the head's own frame, before the source pose: ``R = R_delta @ R_s`` (``driven_rotation``).
Import only where torch is installed (neural.py checks first); the Blender zip leaves this file out.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_KP = 21
NUM_BINS = 66
MODULES = ("appearance_feature_extractor", "motion_extractor", "warping_module", "spade_generator",
           "stitching_retargeting_module")
# The stitching file holds one state dict per MLP, under these names (keys prefixed "module." as published).
STITCHING_PARTS = {"retarget_shoulder": "stitching", "retarget_mouth": "lip", "retarget_eye": "eye"}
MLP_SIZES = {"stitching": (2 * 3 * NUM_KP, (128, 128, 64), 3 * NUM_KP + 2),
             "lip": (3 * NUM_KP + 2, (128, 128, 64), 3 * NUM_KP),
             "eye": (3 * NUM_KP + 3, (256, 256, 128, 128, 64), 3 * NUM_KP)}
SIZE_MULTIPLE = 128  # the 5-level hourglass halves the (H/4, W/4) volume 5 times


# ------------------------------------------------------------------------------------------- building blocks
class SameBlock2d(nn.Module):
    """conv -> batch norm -> (leaky) ReLU at the same resolution."""

    def __init__(self, cin: int, cout: int, leaky: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm = nn.BatchNorm2d(cout)
        self.leaky = leaky

    def forward(self, x):
        x = self.norm(self.conv(x))
        return F.leaky_relu(x) if self.leaky else F.relu(x)


class DownBlock2d(nn.Module):
    """conv -> batch norm -> ReLU -> 2x2 average pool."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.avg_pool2d(F.relu(self.norm(self.conv(x))), 2)


class ResBlock3d(nn.Module):
    """Pre-activation 3D residual block."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = nn.Conv3d(c, c, 3, padding=1)
        self.conv2 = nn.Conv3d(c, c, 3, padding=1)
        self.norm1 = nn.BatchNorm3d(c)
        self.norm2 = nn.BatchNorm3d(c)

    def forward(self, x):
        return x + self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))


class DownBlock3d(nn.Module):
    """conv -> batch norm -> ReLU -> pool H and W by 2 (depth kept)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 3, padding=1)
        self.norm = nn.BatchNorm3d(cout)

    def forward(self, x):
        return F.avg_pool3d(F.relu(self.norm(self.conv(x))), (1, 2, 2))


class UpBlock3d(nn.Module):
    """Nearest upsampling of H and W by 2 -> conv -> batch norm -> ReLU."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 3, padding=1)
        self.norm = nn.BatchNorm3d(cout)

    def forward(self, x):
        return F.relu(self.norm(self.conv(F.interpolate(x, scale_factor=(1, 2, 2)))))


class _Encoder(nn.Module):
    def __init__(self, base: int, cin: int, blocks: int, cmax: int):
        super().__init__()
        widths = [min(cmax, base * 2 ** (i + 1)) for i in range(blocks)]
        self.down_blocks = nn.ModuleList(DownBlock3d(cin if i == 0 else widths[i - 1], widths[i])
                                         for i in range(blocks))

    def forward(self, x):
        outs = [x]
        for b in self.down_blocks:
            outs.append(b(outs[-1]))
        return outs


class _Decoder(nn.Module):
    def __init__(self, base: int, cin: int, blocks: int, cmax: int):
        super().__init__()
        ups = []
        for i in reversed(range(blocks)):
            inner = min(cmax, base * 2 ** (i + 1))
            ups.append(UpBlock3d(inner if i == blocks - 1 else 2 * inner, min(cmax, base * 2 ** i)))
        self.up_blocks = nn.ModuleList(ups)
        self.out_filters = base + cin
        self.conv = nn.Conv3d(self.out_filters, self.out_filters, 3, padding=1)
        self.norm = nn.BatchNorm3d(self.out_filters)

    def forward(self, skips: list):
        x = skips.pop()
        for b in self.up_blocks:
            x = torch.cat([b(x), skips.pop()], dim=1)  # upsampled first, then the skip: the trained order
        return F.relu(self.norm(self.conv(x)))


class Hourglass3d(nn.Module):
    """3D U-Net over (C, D, H, W) volumes; output has ``base + cin`` channels."""

    def __init__(self, base: int, cin: int, blocks: int, cmax: int):
        super().__init__()
        self.encoder = _Encoder(base, cin, blocks, cmax)
        self.decoder = _Decoder(base, cin, blocks, cmax)
        self.out_filters = self.decoder.out_filters

    def forward(self, x):
        return self.decoder(self.encoder(x))


class LayerNorm2d(nn.Module):
    """Layer norm over the channel axis of (B, C, H, W)."""

    def __init__(self, c: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x):
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        return self.weight[:, None, None] * (x - mu) / torch.sqrt(var + self.eps) + self.bias[:, None, None]


class GRN(nn.Module):
    """Global response normalisation of channels-last (B, H, W, C) features."""

    def __init__(self, c: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, c))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, c))

    def forward(self, x):
        g = torch.linalg.vector_norm(x, dim=(1, 2), keepdim=True)  # (B, 1, 1, C)
        return self.gamma * (x * (g / (g.mean(-1, keepdim=True) + 1e-6))) + self.beta + x


class ConvNeXtBlock(nn.Module):
    """Depthwise 7x7 conv, layer norm, 4x MLP with GELU and GRN, residual."""

    def __init__(self, c: int):
        super().__init__()
        self.dwconv = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.pwconv1 = nn.Linear(c, 4 * c)
        self.grn = GRN(4 * c)
        self.pwconv2 = nn.Linear(4 * c, c)

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)  # (B, H, W, C)
        y = self.pwconv2(self.grn(F.gelu(self.pwconv1(self.norm(y)))))
        return x + y.permute(0, 3, 1, 2)


class SNConv2d(nn.Module):
    """Conv2d with spectral normalisation as stored in the checkpoints (weight_orig, weight_u, weight_v).

    Inference divides by sigma = u . (W v) with the stored vectors, as torch's spectral_norm does in eval mode.
    """

    def __init__(self, cin: int, cout: int, k: int, padding: int = 0, bias: bool = True):
        super().__init__()
        self.padding = padding
        w = torch.empty(cout, cin, k, k)
        self.weight_orig = nn.Parameter(w)
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.register_buffer("weight_u", torch.empty(cout))
        self.register_buffer("weight_v", torch.empty(cin * k * k))
        if not w.is_meta:
            nn.init.kaiming_uniform_(self.weight_orig, a=math.sqrt(5))
            self.refresh_vectors()

    @torch.no_grad()
    def refresh_vectors(self, steps: int = 20) -> None:
        """Power iteration for u, v from the current weight (random models; trained ones bring theirs)."""
        m = self.weight_orig.reshape(self.weight_orig.shape[0], -1)
        v = F.normalize(torch.randn(m.shape[1]), dim=0)
        for _ in range(steps):
            u = F.normalize(m @ v, dim=0)
            v = F.normalize(m.T @ u, dim=0)
        self.weight_u.copy_(u)
        self.weight_v.copy_(v)

    def forward(self, x):
        w = self.weight_orig
        sigma = torch.dot(self.weight_u, w.reshape(w.shape[0], -1) @ self.weight_v)
        return F.conv2d(x, w / sigma, self.bias, padding=self.padding)


class SPADE(nn.Module):
    """Instance norm modulated per pixel by gamma, beta predicted from the segmentation-like features."""

    def __init__(self, c: int, label_c: int, hidden: int = 128):
        super().__init__()
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_c, hidden, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, c, 3, padding=1)
        self.mlp_beta = nn.Conv2d(hidden, c, 3, padding=1)

    def forward(self, x, seg):
        a = self.mlp_shared(F.interpolate(seg, size=x.shape[2:], mode="nearest"))
        return F.instance_norm(x) * (1 + self.mlp_gamma(a)) + self.mlp_beta(a)


class SPADEResBlock(nn.Module):
    """Two SPADE -> leaky ReLU -> conv steps plus a (learned when widths differ) shortcut."""

    def __init__(self, cin: int, cout: int, label_c: int):
        super().__init__()
        mid = min(cin, cout)
        self.learned_shortcut = cin != cout
        self.conv_0 = SNConv2d(cin, mid, 3, 1)
        self.conv_1 = SNConv2d(mid, cout, 3, 1)
        self.norm_0 = SPADE(cin, label_c)
        self.norm_1 = SPADE(mid, label_c)
        if self.learned_shortcut:
            self.conv_s = SNConv2d(cin, cout, 1, 0, bias=False)
            self.norm_s = SPADE(cin, label_c)

    def forward(self, x, seg):
        skip = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return skip + dx


# ------------------------------------------------------------------------------------------------- modules
class AppearanceFeatureExtractor(nn.Module):
    """F: (B, 3, H, W) in [0, 1] -> (B, 32, 16, H/4, W/4) appearance feature volume."""

    def __init__(self, base: int = 64, down: int = 2, cmax: int = 512, vol_c: int = 32, vol_d: int = 16,
                 res: int = 6):
        super().__init__()
        self.vol_c, self.vol_d = vol_c, vol_d
        self.first = SameBlock2d(3, base)
        widths = [min(cmax, base * 2 ** i) for i in range(down + 1)]
        self.down_blocks = nn.ModuleList(DownBlock2d(widths[i], widths[i + 1]) for i in range(down))
        self.second = nn.Conv2d(widths[-1], cmax, 1)
        self.resblocks_3d = nn.Sequential()
        for i in range(res):
            self.resblocks_3d.add_module(f"3dr{i}", ResBlock3d(vol_c))

    def forward(self, img):
        x = self.first(img)
        for b in self.down_blocks:
            x = b(x)
        x = self.second(x)  # (B, 512, H/4, W/4)
        b, _, h, w = x.shape
        return self.resblocks_3d(x.view(b, self.vol_c, self.vol_d, h, w))


class ConvNeXtV2(nn.Module):
    """ConvNeXtV2 backbone with LivePortrait's keypoint, pose, expression and scale heads."""

    def __init__(self, depths=(3, 3, 9, 3), dims=(96, 192, 384, 768), num_kp: int = NUM_KP,
                 num_bins: int = NUM_BINS):
        super().__init__()
        self.downsample_layers = nn.ModuleList([nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4),
                                                              LayerNorm2d(dims[0]))])
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(LayerNorm2d(dims[i]),
                                                        nn.Conv2d(dims[i], dims[i + 1], 2, stride=2)))
        self.stages = nn.ModuleList(nn.Sequential(*[ConvNeXtBlock(dims[i]) for _ in range(depths[i])])
                                    for i in range(4))
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        c = dims[-1]
        self.fc_kp = nn.Linear(c, 3 * num_kp)
        self.fc_scale = nn.Linear(c, 1)
        self.fc_pitch = nn.Linear(c, num_bins)
        self.fc_yaw = nn.Linear(c, num_bins)
        self.fc_roll = nn.Linear(c, num_bins)
        self.fc_t = nn.Linear(c, 3)
        self.fc_exp = nn.Linear(c, 3 * num_kp)

    def forward(self, img) -> dict:
        x = img
        for down, stage in zip(self.downsample_layers, self.stages):
            x = stage(down(x))
        x = self.norm(x.mean((-2, -1)))  # (B, 768)
        return {k: getattr(self, f"fc_{k}")(x) for k in ("kp", "pitch", "yaw", "roll", "t", "exp", "scale")}


class MotionExtractor(nn.Module):
    """M: (B, 3, H, W) -> raw heads: kp (B, 63), pitch/yaw/roll (B, 66), t (B, 3), exp (B, 63), scale (B, 1)."""

    def __init__(self, num_kp: int = NUM_KP):
        super().__init__()
        self.detector = ConvNeXtV2(num_kp=num_kp)

    def forward(self, img) -> dict:
        return self.detector(img)


class DenseMotionNetwork(nn.Module):
    """Dense 3D flow and 2D occlusion from the compressed source volume and the two keypoint sets."""

    def __init__(self, num_kp: int = NUM_KP, feature_c: int = 32, base: int = 32, blocks: int = 5,
                 cmax: int = 1024, depth: int = 16, compress: int = 4, variance: float = 0.01):
        super().__init__()
        self.num_kp, self.variance = num_kp, variance
        self.hourglass = Hourglass3d(base, (num_kp + 1) * (compress + 1), blocks, cmax)
        out = self.hourglass.out_filters
        self.mask = nn.Conv3d(out, num_kp + 1, 7, padding=3)
        self.compress = nn.Conv3d(feature_c, compress, 1)
        self.norm = nn.BatchNorm3d(compress)
        self.occlusion = nn.Conv2d(out * depth, 1, 7, padding=3)

    def forward(self, feature, kp_driving, kp_source) -> dict:
        feat = F.relu(self.norm(self.compress(feature)))  # (B, 4, D, H, W)
        b, c, d, h, w = feat.shape
        k = self.num_kp
        grid = make_coordinate_grid(d, h, w, feat)  # (D, H, W, 3)
        # Backward warps: driving-space point p samples the source at p - x_d,k + x_s,k; index 0 is the identity.
        shifted = grid[None, None] - kp_driving.view(b, k, 1, 1, 1, 3) + kp_source.view(b, k, 1, 1, 1, 3)
        motions = torch.cat([grid[None, None].expand(b, 1, d, h, w, 3), shifted], 1)  # (B, K+1, D, H, W, 3)
        vol = feat[:, None].expand(b, k + 1, c, d, h, w).reshape(b * (k + 1), c, d, h, w)
        deformed = F.grid_sample(vol, motions.reshape(b * (k + 1), d, h, w, 3), align_corners=False)
        deformed = deformed.view(b, k + 1, c, d, h, w)
        heat = gaussian(kp_driving, grid, self.variance) - gaussian(kp_source, grid, self.variance)  # (B, K, D, H, W)
        heat = torch.cat([heat.new_zeros(b, 1, d, h, w), heat], 1)[:, :, None]  # (B, K+1, 1, D, H, W)
        x = torch.cat([heat, deformed], 2).view(b, -1, d, h, w)  # (B, (K+1)*5, D, H, W)
        pred = self.hourglass(x)  # (B, 142, D, H, W)
        mask = F.softmax(self.mask(pred), 1)  # (B, K+1, D, H, W)
        flow = (motions * mask[..., None]).sum(1)  # (B, D, H, W, 3)
        occ = torch.sigmoid(self.occlusion(pred.reshape(b, -1, h, w)))  # (B, 1, H, W)
        return {"mask": mask, "deformation": flow, "occlusion_map": occ}


class WarpingNetwork(nn.Module):
    """W: warp the source volume to the driving keypoints -> (B, 256, H/4, W/4) decoder input."""

    def __init__(self, num_kp: int = NUM_KP, base: int = 64, cmax: int = 512, down: int = 2, vol_c: int = 32):
        super().__init__()
        self.dense_motion_network = DenseMotionNetwork(num_kp, vol_c)
        c = base * 2 ** down
        self.third = SameBlock2d(cmax, c, leaky=True)
        self.fourth = nn.Conv2d(c, c, 1)

    def forward(self, feature_3d, kp_driving, kp_source) -> dict:
        dm = self.dense_motion_network(feature_3d, kp_driving, kp_source)
        out = F.grid_sample(feature_3d, dm["deformation"], align_corners=False)  # (B, 32, 16, H, W)
        b, c, d, h, w = out.shape
        out = self.fourth(self.third(out.view(b, c * d, h, w))) * dm["occlusion_map"]
        return {"out": out, "occlusion_map": dm["occlusion_map"], "deformation": dm["deformation"]}


class SPADEDecoder(nn.Module):
    """G: (B, 256, h, w) warped features -> (B, 3, 8h, 8w) RGB in [0, 1] (2x upsampled twice, pixel shuffle)."""

    def __init__(self, base: int = 64, cmax: int = 512, down: int = 2, out_c: int = 64):
        super().__init__()
        c = min(cmax, base * 2 ** down)  # 256
        self.fc = nn.Conv2d(c, 2 * c, 3, padding=1)
        for i in range(6):
            setattr(self, f"G_middle_{i}", SPADEResBlock(2 * c, 2 * c, c))
        self.up_0 = SPADEResBlock(2 * c, c, c)
        self.up_1 = SPADEResBlock(c, out_c, c)
        self.conv_img = nn.Sequential(nn.Conv2d(out_c, 3 * 4, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, feature):
        x = self.fc(feature)
        for i in range(6):
            x = getattr(self, f"G_middle_{i}")(x, feature)
        x = self.up_0(F.interpolate(x, scale_factor=2), feature)
        x = self.up_1(F.interpolate(x, scale_factor=2), feature)
        return torch.sigmoid(self.conv_img(F.leaky_relu(x, 0.2)))


class MLP(nn.Module):
    """Linear/ReLU stack under ``mlp`` (the stitching and retargeting networks)."""

    def __init__(self, cin: int, hidden, cout: int):
        super().__init__()
        layers, prev = [], cin
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.ReLU()]
            prev = h
        layers.append(nn.Linear(prev, cout))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x):
        return self.mlp(x)


class StitchingRetargeting(nn.Module):
    """S and R: ``stitching`` (126 -> 65), ``lip`` (65 -> 63) and ``eye`` (66 -> 63) MLPs."""

    def __init__(self):
        super().__init__()
        for name, (cin, hidden, cout) in MLP_SIZES.items():
            setattr(self, name, MLP(cin, hidden, cout))


def build_module(name: str) -> nn.Module:
    """One published module with the sizes of models.yaml (random weights unless built on the meta device)."""
    return {"appearance_feature_extractor": AppearanceFeatureExtractor, "motion_extractor": MotionExtractor,
            "warping_module": WarpingNetwork, "spade_generator": SPADEDecoder,
            "stitching_retargeting_module": StitchingRetargeting}[name]()


def published_state(name: str, module: nn.Module) -> dict:
    """The state dict laid out as the published file: nested per MLP with a 'module.' prefix for stitching."""
    sd = module.state_dict()
    if name != "stitching_retargeting_module":
        return sd
    return {part: {"module." + k.split(".", 1)[1]: v for k, v in sd.items() if k.startswith(sub + ".")}
            for part, sub in STITCHING_PARTS.items()}


def expected_shapes(name: str) -> dict[str, tuple]:
    """{key: shape} of the published file ``name`` (stitching keys as 'retarget_mouth/module.mlp.0.weight')."""
    with torch.device("meta"):
        m = build_module(name)
    st = published_state(name, m)
    if name == "stitching_retargeting_module":
        return {f"{part}/{k}": tuple(v.shape) for part, sd in st.items() for k, v in sd.items()}
    return {k: tuple(v.shape) for k, v in st.items()}


# ------------------------------------------------------------------------------------------------ geometry
def make_coordinate_grid(d: int, h: int, w: int, ref) -> torch.Tensor:
    """(D, H, W, 3) grid of (x, y, z) in [-1, 1], corner to corner, x right, y down, z into the screen."""
    def axis(n):
        return torch.linspace(-1.0, 1.0, n, dtype=ref.dtype, device=ref.device) if n > 1 else \
            torch.full((1,), -1.0, dtype=ref.dtype, device=ref.device)
    z, y, x = torch.meshgrid(axis(d), axis(h), axis(w), indexing="ij")
    return torch.stack([x, y, z], -1)


def gaussian(kp, grid, variance: float):
    """(B, K, D, H, W) unnormalised Gaussians at keypoints (B, K, 3) over a (D, H, W, 3) grid."""
    diff = grid[None, None] - kp[:, :, None, None, None, :]
    return torch.exp(-0.5 * diff.pow(2).sum(-1) / variance)


def bins_to_degrees(logits):
    """(B,) degrees from (B, 66) bin logits: expectation over bins of 3 degrees centred at 0."""
    idx = torch.arange(logits.shape[1], dtype=logits.dtype, device=logits.device)
    return (F.softmax(logits, 1) * idx).sum(1) * 3.0 - 97.5


def rotation_rows(pitch, yaw, roll):
    """(B, 3, 3) row-vector rotation (points @ R) for degrees; the column matrix is Rz(roll) Ry(yaw) Rx(pitch)."""
    p, y, r = (torch.deg2rad(a.reshape(-1)) for a in (pitch, yaw, roll))
    one, zero = torch.ones_like(p), torch.zeros_like(p)
    rx = torch.stack([one, zero, zero, zero, p.cos(), -p.sin(), zero, p.sin(), p.cos()], -1).view(-1, 3, 3)
    ry = torch.stack([y.cos(), zero, y.sin(), zero, one, zero, -y.sin(), zero, y.cos()], -1).view(-1, 3, 3)
    rz = torch.stack([r.cos(), -r.sin(), zero, r.sin(), r.cos(), zero, zero, zero, one], -1).view(-1, 3, 3)
    return (rz @ ry @ rx).transpose(1, 2)


def kp_info(raw: dict) -> dict:
    """Raw motion-extractor heads -> kp, exp (B, 21, 3), pitch/yaw/roll degrees (B,), t (B, 3), scale (B, 1)."""
    b = raw["kp"].shape[0]
    return {"kp": raw["kp"].view(b, -1, 3), "exp": raw["exp"].view(b, -1, 3), "t": raw["t"],
            "scale": raw["scale"], **{k: bins_to_degrees(raw[k]) for k in ("pitch", "yaw", "roll")}}


def driven_rotation(rot_s, delta):
    """(B, 3, 3) rows: ``delta`` (rows, the driving head's rotation since its rest, R_d @ R_d0^T) applied in the
    head's own frame, then the source pose ``rot_s``: LivePortrait's relative-motion order ``delta @ rot_s``.

    With rows, ``kp @ delta @ rot_s`` turns the canonical keypoints by ``delta`` first, so a nod stays a nod about the
    head's ear-to-ear axis however the portrait is turned (``rot_s @ delta`` would nod about the camera's x axis).
    """
    return delta @ rot_s


def posed_keypoints(kp, rot, exp, scale, t):
    """scale * (kp @ rot + exp) + (tx, ty, 0): (B, 21, 3) keypoints in the image's frame."""
    x = (kp @ rot + exp) * scale[:, :, None]
    return x + F.pad(t[:, None, :2], (0, 1))
