# The figures of tests/cardinal.rs: R convey's svyafc (the Alkire-Foster class, before
# convey dropped its multidimensional measures in 2021: github.com/ajdamico/convey at
# c87cde0~1) on the eight persons of the test, M0 (g = 0), M1 (g = 1) and M2 (g = 2) at
# k = 1/3, with standard errors, for the design with strata and PSUs and for rows as
# their own PSUs.
#
#   Rscript scripts/convey-reference.R CONVEY_SOURCES
#
# CONVEY_SOURCES is that commit's tree; its R/ files are sourced (convey is not on
# Debian); survey from Debian's r-cran-survey. The 0/1 indicators a and b are given to
# svyafc as achievements 1 - d with cutoff 1 (deprived when 1 - d < 1, gap d).
suppressMessages(library(survey))
options(digits = 15)
for (f in list.files(file.path(commandArgs(trailingOnly = TRUE)[1], "R"), full.names = TRUE)) {
  source(f)
}
d <- data.frame(
  a = c(1, 0, 0, 0, 1, 1, 0, 0), b = c(0, 0, 1, 0, 1, 0, 0, 1),
  inc = c(50, 80, 150, 120, 0, 99, 100, 30), w = c(1, 2, 1, 4, 1.5, 0.5, 2, 3),
  h = c(1, 1, 1, 1, 2, 2, 2, 2), p = c(1, 1, 2, 2, 3, 3, 4, 4))
d$not_a <- 1 - d$a
d$not_b <- 1 - d$b
for (clustered in c(TRUE, FALSE)) {
  design <- if (clustered) {
    svydesign(ids = ~p, strata = ~h, weights = ~w, data = d)
  } else {
    svydesign(ids = ~1, weights = ~w, data = d)
  }
  design <- convey_prep(design)
  for (g in 0:2) {
    r <- svyafc(~ not_a + not_b + inc, design, k = 1/3, g = g, cutoffs = list(1, 1, 100))
    cat(sprintf("%s g=%d %.15g %.15g\n", if (clustered) "psu" else "rows", g,
                coef(r)[1], sqrt(attr(r, "var")[1])))
  }
}

# And svyafcdec (g = 0) by the subgroup sg: each subgroup's percentual contribution to
# M0 with its standard error (tests/cardinal.rs checks afmpi's contrib against it).
d$sg <- factor(c("x", "x", "y", "y", "x", "y", "x", "y"))
for (clustered in c(TRUE, FALSE)) {
  design <- if (clustered) {
    svydesign(ids = ~p, strata = ~h, weights = ~w, data = d)
  } else {
    svydesign(ids = ~1, weights = ~w, data = d)
  }
  design <- convey_prep(design)
  r <- svyafcdec(~ not_a + not_b + inc, ~sg, design, k = 1/3, g = 0, cutoffs = list(1, 1, 100))
  p <- r[["percentual contribution per subgroup"]]
  se <- sqrt(diag(as.matrix(attr(p, "var"))))
  for (i in seq_len(nrow(p))) {
    cat(sprintf("%s contrib %s %.15g %.15g\n", if (clustered) "psu" else "rows",
                rownames(p)[i], p[i, 1], se[i]))
  }
}
