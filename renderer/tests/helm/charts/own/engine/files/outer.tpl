{{ tpl (.Files.Get "files/inner.tpl") . }}
