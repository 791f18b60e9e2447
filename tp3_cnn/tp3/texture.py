"""Texture synthesis à la Gatys (given to the students): a texture made by code, and the
synthesis by gradient descent on the Gram matrices of a CNN with RANDOM filters (no download:
for textures, random filters of several sizes suffice, Ustyuzhaninov et al. 2017). torch
computes the gradients whatever Keras's backend. Nothing here is one of the exercises: the
notebook checks the result with the student's own `couche_convolution`, `matrice_gram` and
`distance_style`."""

from __future__ import annotations

import numpy as np

TAILLES_FILTRES = (3, 5, 7)


def texture_source(taille=32, graine=0):
    """Une texture de « briques » faite par le code : rangées décalées d'une demi-brique, joints
    sombres, grain aléatoire. Image (taille, taille) à valeurs dans [0, 1]."""
    rng = np.random.default_rng(graine)
    y, x = np.mgrid[0:taille, 0:taille]
    hauteur, largeur = 6, 10
    rangee = y // hauteur
    decalage = (rangee % 2) * (largeur // 2)
    joint = (y % hauteur == 0) | ((x + decalage) % largeur == 0)
    teinte = rng.uniform(0.55, 0.9, size=(taille // hauteur + 2, taille // largeur + 3))
    brique = teinte[rangee, (x + decalage) // largeur]
    image = np.where(joint, 0.1, brique) + 0.04 * rng.normal(size=(taille, taille))
    return np.clip(image, 0, 1)


def _filtres(graine, n_filtres):
    """Random zero-mean filters (Keras layout (k, k, 1, F)) for each size."""
    rng = np.random.default_rng(graine)
    noyaux = []
    for k in TAILLES_FILTRES:
        w = rng.normal(size=(k, k, 1, n_filtres))
        w -= w.mean(axis=(0, 1), keepdims=True)
        noyaux.append(w / np.sqrt(k * k))
    return noyaux


def synthetiser_texture(source, n_etapes=300, n_filtres=16, graine=0, pas=0.05):
    """Synthèse de texture par descente de gradient sur les statistiques de Gram.

    Caractéristiques : ReLU(convolution) de l'image par `n_filtres` filtres ALÉATOIRES de chaque
    taille de `TAILLES_FILTRES` (une couche, plusieurs échelles). On part d'un bruit blanc et on
    minimise Σ_échelles Σ_ij (G_ij − Ĝ_ij)² / (normalisation) par Adam, en ne modifiant que les
    pixels. Renvoie un dictionnaire : "texture" (l'image synthétisée), "bruit" (le point de
    départ), "pertes" (la perte à chaque étape), "noyaux" (les filtres, disposition de Keras
    (k, k, 1, F), biais nuls)."""
    import torch

    source = np.asarray(source, dtype=float)
    noyaux = _filtres(graine, n_filtres)
    poids = [torch.as_tensor(w.transpose(3, 2, 0, 1).copy()) for w in noyaux]
    generateur = torch.Generator().manual_seed(graine)

    def grams(image):
        out = []
        for w in poids:
            cartes = torch.relu(torch.nn.functional.conv2d(image[None, None], w))[0]
            c = cartes.reshape(cartes.shape[0], -1)
            out.append(c @ c.T / c.shape[1])  # normalised here: the loss is scale-free
        return out

    cible = [g.detach() for g in grams(torch.as_tensor(source))]
    echelle = [float((g ** 2).sum()) for g in cible]
    depart = source.mean() + source.std() * torch.randn(source.shape, generator=generateur,
                                                        dtype=torch.float64)
    image = depart.clone().requires_grad_(True)
    optimiseur = torch.optim.Adam([image], lr=pas)
    pertes = []
    for _ in range(n_etapes):
        optimiseur.zero_grad()
        perte = sum(((g - gc) ** 2).sum() / e for g, gc, e in zip(grams(image), cible, echelle))
        perte.backward()
        optimiseur.step()
        pertes.append(float(perte.detach()))
    return {"texture": image.detach().numpy().copy(), "bruit": depart.numpy().copy(),
            "pertes": np.array(pertes), "noyaux": noyaux}
